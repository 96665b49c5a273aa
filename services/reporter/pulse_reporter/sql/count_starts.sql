SELECT count(*) FROM reporter.render_starts WHERE job_id = $1 AND attempt = $2
