UPDATE catalog.users
SET password_hash = $4
WHERE org_id = $1 AND id = $2 AND password_hash = $3
