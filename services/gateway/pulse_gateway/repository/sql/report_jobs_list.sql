SELECT id, campaign_ids, period_from, period_to, sections, format, title, attempt, status,
       progress, error, filename, media_type, size_bytes, expires_at, created_at, updated_at
FROM catalog.report_jobs
WHERE org_id = $1
ORDER BY created_at DESC, id
LIMIT $2
