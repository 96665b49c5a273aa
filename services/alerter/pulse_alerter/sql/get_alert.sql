SELECT id, campaign_id, booking_id, post_id, type, scope, severity, message, debounce_key,
       status, raised_at, last_seen_at, resolved_at, resolved_by, resolved_by_user,
       resolution_note
FROM alerter.alerts
WHERE org_id = $1 AND id = $2
