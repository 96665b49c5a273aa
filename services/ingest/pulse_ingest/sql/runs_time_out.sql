-- Runs nobody completed in time: failed, and saying why.
UPDATE ingest.runs
SET status   = 'failed',
    reason   = 'timed_out',
    ended_at = $1::timestamptz
WHERE status IN ('pending', 'running')
  AND started_at < $1::timestamptz - $2::interval
RETURNING id, org_id
