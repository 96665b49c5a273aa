SELECT id, set_id, platform, handle, created_at, updated_at
FROM catalog.benchmark_accounts
WHERE org_id = $1 AND set_id = $2
ORDER BY platform, lower(handle)
