UPDATE ingest.benchmark_accounts
SET status = $2, status_detail = $3,
    last_pulled_at = CASE WHEN $2 = 'ok' THEN $4 ELSE last_pulled_at END,
    followers = COALESCE($5, followers)
WHERE id = $1
