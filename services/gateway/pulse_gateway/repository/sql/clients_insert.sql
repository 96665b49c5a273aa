INSERT INTO catalog.clients (org_id, id, name, brand_color, logo_url)
VALUES ($1, $2, $3, $4, $5)
RETURNING {{ clients_row }}
