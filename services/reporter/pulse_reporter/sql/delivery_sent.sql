UPDATE reporter.deliveries
SET status = 'sent', sent_at = $2, share_url = $3, error = NULL, attempts = attempts + 1
WHERE id = $1
