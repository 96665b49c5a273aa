SELECT id, name, brand_color, logo_url FROM share.clients WHERE id = $1 AND org_id = $2
