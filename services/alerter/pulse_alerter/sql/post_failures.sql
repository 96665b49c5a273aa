-- The newest failure report wins; ingest counts the consecutive failures itself.
INSERT INTO alerter.posts AS p (id, org_id, campaign_id, booking_id, failures, failures_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE
SET failures = excluded.failures, failures_at = excluded.failures_at
WHERE p.failures_at IS NULL OR p.failures_at < excluded.failures_at
