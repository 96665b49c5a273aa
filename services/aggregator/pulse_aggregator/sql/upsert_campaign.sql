INSERT INTO aggregator.campaigns AS c
    (id, org_id, client_id, name, status, start_date, end_date, budget_cents, currency,
     committed_views, committed_engagement, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (id) DO UPDATE
SET client_id = excluded.client_id, name = excluded.name, status = excluded.status,
    start_date = excluded.start_date, end_date = excluded.end_date,
    budget_cents = excluded.budget_cents, currency = excluded.currency,
    committed_views = excluded.committed_views,
    committed_engagement = excluded.committed_engagement, updated_at = excluded.updated_at
WHERE c.updated_at < excluded.updated_at
