UPDATE catalog.api_tokens
SET revoked_at = clock_timestamp(), updated_at = clock_timestamp()
WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL
RETURNING id, name, scopes, created_by, created_at, last_used_at, revoked_at, updated_at
