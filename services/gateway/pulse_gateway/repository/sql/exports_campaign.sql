SELECT id, client_id, name, status, start_date, end_date, budget_cents, currency,
       committed_views, committed_engagement
FROM catalog.campaigns
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
