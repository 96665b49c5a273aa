INSERT INTO reporter.schedules (id, org_id, campaign_id, cadence, recipients, next_due_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (org_id, campaign_id) DO UPDATE
SET cadence = EXCLUDED.cadence, recipients = EXCLUDED.recipients,
    next_due_at = EXCLUDED.next_due_at, updated_at = now()
RETURNING id, org_id, campaign_id, cadence, recipients, next_due_at, created_at, updated_at
