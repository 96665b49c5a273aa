INSERT INTO share.report_jobs (id, link_id, org_id, projection_version)
VALUES ($1, $2, $3, $4)
ON CONFLICT (link_id, projection_version) DO NOTHING
RETURNING id, org_id, attempt, status, progress, error, updated_at
