SELECT id, org_id, debounce_key, type, scope, campaign_id, booking_id, post_id, severity, message
FROM alerter.alerts
WHERE campaign_id = $1 AND status = 'open' AND type = ANY ($2::text[])
