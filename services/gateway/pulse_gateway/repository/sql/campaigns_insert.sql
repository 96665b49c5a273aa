INSERT INTO catalog.campaigns AS c
    (id, org_id, client_id, name, status, start_date, end_date, budget_cents, currency,
     committed_views, committed_engagement, notes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING c.id, c.client_id, (SELECT cl.name FROM catalog.clients cl
        WHERE cl.org_id = c.org_id AND cl.id = c.client_id) AS client_name,
       c.name, c.status, c.start_date, c.end_date, c.budget_cents, c.currency, c.committed_views,
       c.committed_engagement, c.notes, c.created_at, c.updated_at
