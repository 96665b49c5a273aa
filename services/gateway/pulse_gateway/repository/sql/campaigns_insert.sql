INSERT INTO catalog.campaigns AS c
    (org_id, id, client_id, name, status, start_date, end_date, budget_cents, currency,
     committed_views, committed_engagement, notes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING {{ campaigns_row }}
