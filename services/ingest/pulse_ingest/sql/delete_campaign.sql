-- A deletion may arrive before the campaign itself: the tombstone makes the late upsert lose.
INSERT INTO ingest.campaigns (id, org_id, deleted_at, updated_at)
VALUES ($1, $2, $3, $3)
ON CONFLICT (id) DO UPDATE
SET deleted_at = LEAST(COALESCE(ingest.campaigns.deleted_at, excluded.deleted_at),
                       excluded.deleted_at)
