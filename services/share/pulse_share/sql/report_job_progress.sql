-- Events of an older attempt, and anything after the end, change nothing; progress only rises.
UPDATE share.report_jobs
SET status = $3, progress = $4, error = $5, updated_at = now()
WHERE id = $1 AND attempt = $2
  AND status NOT IN ('done', 'failed')
  AND ($3 <> 'running' OR progress <= $4)
