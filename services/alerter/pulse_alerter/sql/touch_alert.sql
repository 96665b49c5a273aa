UPDATE alerter.alerts SET last_seen_at = $2, message = $3 WHERE id = $1 AND status = 'open'
