INSERT INTO reporter.deliveries
    (id, schedule_id, org_id, campaign_id, period, recipients, claimed_by, claimed_until)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (schedule_id, period) DO NOTHING
RETURNING id
