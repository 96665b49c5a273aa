INSERT INTO reporter.jobs (job_id, org_id, requested_by, attempt, format, title)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (job_id) DO NOTHING
