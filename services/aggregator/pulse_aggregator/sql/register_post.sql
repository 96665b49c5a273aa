INSERT INTO aggregator.posts AS p
    (id, org_id, booking_id, campaign_id, platform, url, registered_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE
SET booking_id = excluded.booking_id, campaign_id = excluded.campaign_id,
    platform = excluded.platform, url = excluded.url, registered_at = excluded.registered_at
WHERE p.registered_at < excluded.registered_at
