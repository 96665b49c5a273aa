SELECT c.id, c.client_id, (SELECT cl.name FROM catalog.clients cl
        WHERE cl.org_id = c.org_id AND cl.id = c.client_id) AS client_name,
       c.name, c.status, c.start_date, c.end_date, c.budget_cents, c.currency, c.committed_views,
       c.committed_engagement, c.notes, c.created_at, c.updated_at
FROM catalog.campaigns c
WHERE c.org_id = $1
  AND c.deleted_at IS NULL
  AND ($2::text IS NULL OR c.status = $2)
  AND ($3::uuid IS NULL OR c.client_id = $3)
  AND ($4::text IS NULL OR c.name ILIKE $4)
  AND ($5::timestamptz IS NULL OR (c.created_at, c.id) < ($5, $6))
ORDER BY c.created_at DESC, c.id DESC
LIMIT $7
