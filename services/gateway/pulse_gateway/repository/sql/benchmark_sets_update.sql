UPDATE catalog.benchmark_sets SET name = $3, updated_at = now()
WHERE org_id = $1 AND id = $2
RETURNING id, name, created_at, updated_at
