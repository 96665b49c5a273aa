INSERT INTO catalog.clients (id, org_id, name, brand_color, logo_url)
VALUES ($1, $2, $3, $4, $5)
RETURNING {{ clients_row }}
