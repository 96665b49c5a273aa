UPDATE catalog.report_jobs
SET attempt = attempt + 1, status = 'pending', progress = 0, error = NULL, filename = NULL,
    media_type = NULL, size_bytes = NULL, expires_at = NULL, updated_at = now()
WHERE org_id = $1 AND id = $2 AND status = 'failed'
RETURNING id, campaign_ids, period_from, period_to, sections, format, title, attempt, status,
          progress, error, filename, media_type, size_bytes, expires_at, created_at, updated_at
