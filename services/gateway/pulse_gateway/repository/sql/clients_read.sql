SELECT {{ clients_row }}
FROM catalog.clients
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
