UPDATE reporter.jobs SET status = 'failed', error = $2, finished_at = $3 WHERE job_id = $1
