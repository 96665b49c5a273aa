-- The outcome of one attempt; `attempts` guards against a sender whose lease already ended.
UPDATE alerter.notification_deliveries
SET status = $3,
    next_attempt_at = COALESCE($4, next_attempt_at),
    delivered_at = $5,
    last_error = $6,
    last_status_code = $7
WHERE id = $1 AND attempts = $2 AND status = 'pending'
