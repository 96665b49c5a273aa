INSERT INTO share.clients AS c (id, org_id, name, brand_color, logo_url, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE
SET name = excluded.name, brand_color = excluded.brand_color, logo_url = excluded.logo_url,
    updated_at = excluded.updated_at
WHERE c.updated_at < excluded.updated_at AND c.org_id = excluded.org_id
RETURNING true
