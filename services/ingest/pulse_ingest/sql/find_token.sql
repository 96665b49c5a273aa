SELECT t.id, t.org_id
FROM ingest.api_tokens AS t
WHERE t.token_sha256 = $1
  AND t.revoked_at IS NULL
  AND 'ingest' = ANY (t.scopes)
