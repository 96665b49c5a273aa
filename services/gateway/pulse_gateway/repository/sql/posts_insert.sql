INSERT INTO catalog.posts (id, org_id, booking_id, campaign_id, platform, url, platform_post_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id, booking_id, campaign_id, platform, url, platform_post_id, registered_at
