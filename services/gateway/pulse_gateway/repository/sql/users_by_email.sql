SELECT id, org_id, email, name, role, password_hash, disabled_at
FROM catalog.users
WHERE lower(email) = lower($1)
ORDER BY created_at, id
