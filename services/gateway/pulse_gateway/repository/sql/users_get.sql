SELECT id, email, name, role, disabled_at IS NOT NULL AS disabled, created_at, updated_at
FROM catalog.users
WHERE org_id = $1 AND id = $2
FOR UPDATE
