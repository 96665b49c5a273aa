INSERT INTO aggregator.bookings AS b (id, org_id, campaign_id, deleted_at, updated_at)
VALUES ($1, $2, $3, $4, '-infinity')
ON CONFLICT (id) DO UPDATE SET deleted_at = COALESCE(b.deleted_at, excluded.deleted_at)
