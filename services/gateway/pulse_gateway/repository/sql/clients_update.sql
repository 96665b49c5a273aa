UPDATE catalog.clients
SET name = $3, brand_color = $4, logo_url = $5, updated_at = clock_timestamp()
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
RETURNING {{ clients_row }}
