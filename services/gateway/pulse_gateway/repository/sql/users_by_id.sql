SELECT id, org_id, email, name, role, disabled_at
FROM catalog.users WHERE id = $1
