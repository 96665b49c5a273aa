UPDATE catalog.organizations
SET api_requests_per_minute = $2, updated_at = clock_timestamp()
WHERE id = $1
RETURNING id, name, is_test, api_requests_per_minute, created_at, updated_at
