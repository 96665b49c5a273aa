INSERT INTO alerter.posts AS p (id, org_id, campaign_id, booking_id, removed_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE SET removed_at = coalesce(p.removed_at, excluded.removed_at)
