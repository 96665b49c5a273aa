DELETE FROM reporter.files WHERE job_id = $1
