SELECT id, source, status, reason, name, execution_id, started_at, ended_at, posts_ok,
       posts_failed, accepted, duplicates, rejected, provider_errors
FROM ingest.runs
WHERE id = $1
  AND org_id = $2
