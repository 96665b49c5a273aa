INSERT INTO catalog.report_jobs
    (id, org_id, requested_by, campaign_ids, period_from, period_to, sections, format, title)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id, campaign_ids, period_from, period_to, sections, format, title, attempt, status,
          progress, error, filename, media_type, size_bytes, expires_at, created_at, updated_at
