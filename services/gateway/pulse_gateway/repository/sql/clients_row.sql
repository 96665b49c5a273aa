id, name, brand_color, logo_url, created_at, updated_at
