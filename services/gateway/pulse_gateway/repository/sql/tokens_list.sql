SELECT id, name, scopes, created_by, created_at, last_used_at, revoked_at, updated_at
FROM catalog.api_tokens
WHERE org_id = $1
  AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
ORDER BY created_at DESC, id DESC
LIMIT $4
