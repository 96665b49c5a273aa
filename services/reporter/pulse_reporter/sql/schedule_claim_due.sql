SELECT id, org_id, campaign_id, cadence, recipients, next_due_at
FROM reporter.schedules
WHERE next_due_at <= $1
ORDER BY next_due_at
LIMIT 1
FOR UPDATE SKIP LOCKED
