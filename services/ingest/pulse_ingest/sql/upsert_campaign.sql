INSERT INTO ingest.campaigns (id, org_id, status, end_date, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE
SET status = excluded.status, end_date = excluded.end_date, updated_at = excluded.updated_at
WHERE ingest.campaigns.updated_at < excluded.updated_at
  AND ingest.campaigns.deleted_at IS NULL
