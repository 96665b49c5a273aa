-- Events of an older attempt, and anything after the end, change nothing; progress only rises.
UPDATE catalog.report_jobs
SET status = $4, progress = $5, error = $6, filename = $7, media_type = $8, size_bytes = $9,
    expires_at = $10, updated_at = now()
WHERE org_id = $1 AND id = $2 AND attempt = $3
  AND status NOT IN ('done', 'failed')
  AND ($4 <> 'running' OR progress <= $5)
