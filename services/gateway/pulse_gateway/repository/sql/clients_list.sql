SELECT {{ clients_row }}
FROM catalog.clients
WHERE org_id = $1
  AND deleted_at IS NULL
  AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
ORDER BY created_at DESC, id DESC
LIMIT $4
