SELECT id, org_id, attempt, status, progress, error, updated_at
FROM share.report_jobs
WHERE link_id = $1 AND projection_version = $2
