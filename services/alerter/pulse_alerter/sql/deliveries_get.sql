SELECT id, channel_id, event_id, alert_id, event_type, severity, payload, status, attempts,
       next_attempt_at, last_error, last_status_code, created_at, delivered_at
FROM alerter.notification_deliveries
WHERE org_id = $1 AND id = $2
