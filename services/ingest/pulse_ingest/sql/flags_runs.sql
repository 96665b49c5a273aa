-- Runs that failed or ended partial since $2, newest first.
SELECT id, source, status, reason, name, started_at, posts_failed, provider_errors
FROM ingest.runs
WHERE org_id = $1
  AND status IN ('failed', 'partial')
  AND started_at >= $2
ORDER BY started_at DESC
LIMIT 50
