INSERT INTO catalog.sessions (token_sha256, user_id, org_id, csrf_token, expires_at)
VALUES ($1, $2, $3, $4, $5)
RETURNING id
