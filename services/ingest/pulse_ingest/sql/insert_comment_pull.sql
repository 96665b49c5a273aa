INSERT INTO ingest.comment_pulls
    (org_id, post_id, command_id, platform, status, http_status, latency_ms, credits, attempts,
     pages, received, new_comments, error_code, error, started_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
