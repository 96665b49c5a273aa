SELECT filename, media_type, content, expires_at
FROM reporter.files
WHERE job_id = $1 AND org_id = $2 AND expires_at > $3
