-- Newest first; $3/$4 filter by status and source when given; $5 is the last row seen
-- (started_at, id), the page's cursor.
SELECT id, source, status, reason, name, execution_id, started_at, ended_at, posts_ok,
       posts_failed, accepted, duplicates, rejected, provider_errors
FROM ingest.runs
WHERE org_id = $1
  AND ($3::text IS NULL OR status = $3)
  AND ($4::text IS NULL OR source = $4)
  AND ($5::timestamptz IS NULL OR (started_at, id) < ($5, $6::uuid))
ORDER BY started_at DESC, id DESC
LIMIT $2
