INSERT INTO ingest.api_tokens (id, org_id, name, token_sha256, scopes, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE
SET name = excluded.name, token_sha256 = excluded.token_sha256, scopes = excluded.scopes,
    updated_at = excluded.updated_at
WHERE ingest.api_tokens.updated_at < excluded.updated_at
  AND ingest.api_tokens.revoked_at IS NULL
