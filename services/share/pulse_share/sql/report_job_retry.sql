UPDATE share.report_jobs
SET attempt = attempt + 1, status = 'pending', progress = 0, error = NULL, updated_at = now()
WHERE id = $1 AND status = 'failed'
RETURNING id, org_id, attempt, status, progress, error, updated_at
