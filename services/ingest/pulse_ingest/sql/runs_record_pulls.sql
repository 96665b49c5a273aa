-- One batch of Pulse's own pulls, recorded finished (a redelivered command is not handled twice).
INSERT INTO ingest.runs
    (id, org_id, source, status, reason, name, started_at, ended_at, posts_ok, posts_failed,
     accepted, duplicates, rejected, provider_errors)
VALUES ($1, $2, 'scheduler', $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (id) DO NOTHING
