UPDATE reporter.jobs SET status = 'done', error = NULL, finished_at = $2 WHERE job_id = $1
