UPDATE catalog.organizations
SET settings = $2, updated_at = clock_timestamp()
WHERE id = $1
RETURNING id, name, is_test, settings, created_at, updated_at
