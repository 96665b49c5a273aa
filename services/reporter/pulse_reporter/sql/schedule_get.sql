SELECT id, org_id, campaign_id, cadence, recipients, next_due_at, created_at, updated_at
FROM reporter.schedules WHERE org_id = $1 AND campaign_id = $2
