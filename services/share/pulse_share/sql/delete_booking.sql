INSERT INTO share.bookings AS b (id, org_id, campaign_id, updated_at, deleted_at)
VALUES ($1, $2, $3, $4, $4)
ON CONFLICT (id) DO UPDATE
SET deleted_at = excluded.deleted_at
WHERE b.deleted_at IS NULL AND b.org_id = excluded.org_id
RETURNING campaign_id
