UPDATE catalog.campaigns AS c
SET client_id = $3, name = $4, status = $5, start_date = $6, end_date = $7,
    budget_cents = $8, currency = $9, committed_views = $10, committed_engagement = $11,
    notes = $12, updated_at = clock_timestamp()
WHERE c.org_id = $1 AND c.id = $2 AND c.deleted_at IS NULL
RETURNING c.id, c.client_id, (SELECT cl.name FROM catalog.clients cl
        WHERE cl.org_id = c.org_id AND cl.id = c.client_id) AS client_name,
       c.name, c.status, c.start_date, c.end_date, c.budget_cents, c.currency, c.committed_views,
       c.committed_engagement, c.notes, c.created_at, c.updated_at
