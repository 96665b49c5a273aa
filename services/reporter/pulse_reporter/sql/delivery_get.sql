SELECT d.id, d.schedule_id, d.org_id, d.campaign_id, d.period, d.recipients, d.attempts
FROM reporter.deliveries AS d WHERE d.id = $1
