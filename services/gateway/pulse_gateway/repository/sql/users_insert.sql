INSERT INTO catalog.users (id, org_id, email, name, role, password_hash)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, email, name, role, disabled_at IS NOT NULL AS disabled, created_at, updated_at
