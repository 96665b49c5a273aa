SELECT s.id, s.name, s.created_at, s.updated_at,
       (SELECT count(*) FROM catalog.benchmark_accounts AS a WHERE a.set_id = s.id) AS accounts
FROM catalog.benchmark_sets AS s
WHERE s.org_id = $1
ORDER BY s.created_at, s.id
