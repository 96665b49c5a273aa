-- Claim due deliveries for one attempt: count the attempt and push next_attempt_at out by a
-- lease, so the send runs outside any transaction and a sender that dies mid-send leaves the
-- row to be tried again when the lease ends. SKIP LOCKED lets replicas claim side by side.
WITH due AS (
    SELECT id
    FROM alerter.notification_deliveries
    WHERE status = 'pending' AND next_attempt_at <= $1
    ORDER BY next_attempt_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE alerter.notification_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = $3
FROM due, alerter.notification_channels c
WHERE d.id = due.id AND c.id = d.channel_id
RETURNING d.id, d.channel_id, d.org_id, d.event_type, d.payload, d.attempts, c.kind, c.target,
          c.format, c.enabled, c.signing_secret
