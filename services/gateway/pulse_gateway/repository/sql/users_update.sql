UPDATE catalog.users
SET name = $3, role = $4, password_hash = COALESCE($5, password_hash),
    disabled_at = CASE WHEN $6 THEN COALESCE(disabled_at, now()) END,
    updated_at = clock_timestamp()
WHERE org_id = $1 AND id = $2
RETURNING {{ users_row }}
