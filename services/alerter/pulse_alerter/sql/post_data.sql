-- The newest sample time of the post (samples may arrive out of order).
INSERT INTO alerter.posts AS p (id, org_id, campaign_id, booking_id, platform, last_data_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE
SET last_data_at = greatest(p.last_data_at, excluded.last_data_at),
    platform = coalesce(p.platform, excluded.platform)
