INSERT INTO alerter.alerts
    (id, org_id, campaign_id, booking_id, post_id, type, scope, severity, message, debounce_key,
     status, raised_at, last_seen_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, $11)
