UPDATE catalog.campaigns AS c
SET client_id = $3, name = $4, status = $5, start_date = $6, end_date = $7,
    budget_cents = $8, currency = $9, committed_views = $10, committed_engagement = $11,
    notes = $12, updated_at = clock_timestamp()
WHERE c.org_id = $1 AND c.id = $2 AND c.deleted_at IS NULL
RETURNING {{ campaigns_row }}
