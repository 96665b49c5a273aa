UPDATE ingest.runs
SET status       = $3,
    reason       = $4,
    execution_id = COALESCE($5, execution_id),
    posts_ok     = $6,
    posts_failed = $7,
    ended_at     = $8,
    name         = COALESCE($9, name)
WHERE id = $1
  AND org_id = $2
