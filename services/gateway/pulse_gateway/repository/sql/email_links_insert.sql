INSERT INTO catalog.email_links (token_sha256, user_id, expires_at) VALUES ($1, $2, $3)
