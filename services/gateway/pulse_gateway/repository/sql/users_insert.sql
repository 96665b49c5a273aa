INSERT INTO catalog.users (id, org_id, email, name, role, password_hash)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING {{ users_row }}
