SELECT u.email, u.name, o.name AS org_name
FROM catalog.users u
JOIN catalog.organizations o ON o.id = u.org_id
WHERE u.org_id = $1 AND u.id = $2 AND u.disabled_at IS NULL
