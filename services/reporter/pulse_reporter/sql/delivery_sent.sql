UPDATE reporter.deliveries
SET status = 'sent', sent_at = $2, share_link_id = $3, error = NULL, attempts = attempts + 1
WHERE id = $1
