SELECT id, name, scopes, created_by, created_at, last_used_at, revoked_at, updated_at
FROM catalog.api_tokens
WHERE org_id = $1 AND id = $2
FOR UPDATE
