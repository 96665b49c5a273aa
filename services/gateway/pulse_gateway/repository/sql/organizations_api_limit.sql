SELECT api_requests_per_minute
FROM catalog.organizations
WHERE id = $1
