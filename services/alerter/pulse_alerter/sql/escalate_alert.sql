UPDATE alerter.alerts
SET severity = $2, message = $3, last_seen_at = $4
WHERE id = $1 AND status = 'open'
