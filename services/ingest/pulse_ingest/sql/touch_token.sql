-- Record last use at most once a minute so a busy token does not rewrite its row per request.
UPDATE ingest.api_tokens
SET last_used_at = now()
WHERE token_sha256 = $1
  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
