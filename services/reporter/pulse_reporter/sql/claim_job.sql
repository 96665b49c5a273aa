SELECT job_id, org_id, requested_by, attempt, status, format, title, error
FROM reporter.jobs
WHERE job_id = $1
FOR NO KEY UPDATE SKIP LOCKED
