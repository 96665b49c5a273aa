UPDATE reporter.jobs
SET attempt = $2, status = 'pending', format = $3, title = $4, error = NULL, finished_at = NULL
WHERE job_id = $1
