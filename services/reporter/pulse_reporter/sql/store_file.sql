INSERT INTO reporter.files
    (job_id, org_id, filename, media_type, content, size_bytes, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (job_id) DO UPDATE
SET filename = EXCLUDED.filename, media_type = EXCLUDED.media_type, content = EXCLUDED.content,
    size_bytes = EXCLUDED.size_bytes, created_at = EXCLUDED.created_at,
    expires_at = EXCLUDED.expires_at
