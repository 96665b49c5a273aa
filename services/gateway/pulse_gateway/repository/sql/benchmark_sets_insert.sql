INSERT INTO catalog.benchmark_sets (id, org_id, name)
VALUES ($1, $2, $3)
RETURNING id, name, created_at, updated_at
