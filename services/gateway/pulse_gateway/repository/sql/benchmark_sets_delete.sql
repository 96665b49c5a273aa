DELETE FROM catalog.benchmark_sets WHERE org_id = $1 AND id = $2
