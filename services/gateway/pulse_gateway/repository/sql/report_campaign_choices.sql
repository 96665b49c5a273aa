SELECT c.id, c.name, c.start_date, c.end_date, cl.name AS client_name
FROM catalog.campaigns AS c
LEFT JOIN catalog.clients AS cl ON cl.id = c.client_id AND cl.org_id = c.org_id
WHERE c.org_id = $1 AND c.deleted_at IS NULL
ORDER BY c.start_date DESC NULLS LAST, c.name
LIMIT 500
