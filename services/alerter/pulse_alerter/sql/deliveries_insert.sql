INSERT INTO alerter.notification_deliveries
    (id, channel_id, org_id, event_id, alert_id, event_type, severity, payload, status,
     next_attempt_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $9)
ON CONFLICT (channel_id, event_id) DO NOTHING
