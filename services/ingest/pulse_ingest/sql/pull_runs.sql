SELECT id, command_id, priority, reason, platform, status, http_status, latency_ms, credits,
       attempts, error_code, error, started_at
FROM ingest.pull_runs
WHERE org_id = $1
  AND post_id = $2
  AND id < $3
ORDER BY id DESC
LIMIT $4
