SELECT id, client_id, name, status, start_date, end_date, budget_cents, currency,
       committed_views, committed_engagement, notes, created_at, updated_at
FROM catalog.campaigns WHERE org_id = $1 AND deleted_at IS NULL ORDER BY created_at, id
