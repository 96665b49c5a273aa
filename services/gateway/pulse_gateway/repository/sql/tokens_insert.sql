INSERT INTO catalog.api_tokens (id, org_id, name, token_sha256, scopes, created_by)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, name, scopes, created_by, created_at, last_used_at, revoked_at, updated_at
