UPDATE alerter.alerts
SET status = 'resolved', resolved_at = $2, resolved_by = $3, resolved_by_user = $4,
    resolution_note = $5
WHERE id = $1 AND status = 'open'
RETURNING id, org_id, campaign_id, booking_id, post_id, type, severity, message, debounce_key
