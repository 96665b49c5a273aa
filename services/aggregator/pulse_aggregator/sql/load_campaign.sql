SELECT id, org_id, client_id, name, status, start_date, end_date, budget_cents, currency,
       committed_views, committed_engagement, deleted_at IS NOT NULL AS deleted
FROM aggregator.campaigns
WHERE id = $1
