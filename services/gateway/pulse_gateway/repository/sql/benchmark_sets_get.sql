SELECT id, name, created_at, updated_at
FROM catalog.benchmark_sets
WHERE org_id = $1 AND id = $2
