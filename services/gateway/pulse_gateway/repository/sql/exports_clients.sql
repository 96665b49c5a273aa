SELECT id, name, brand_color, logo_url, created_at, updated_at
FROM catalog.clients WHERE org_id = $1 AND deleted_at IS NULL ORDER BY created_at, id
