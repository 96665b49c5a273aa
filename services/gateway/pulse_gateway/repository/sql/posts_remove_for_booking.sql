UPDATE catalog.posts SET removed_at = clock_timestamp()
WHERE org_id = $1 AND booking_id = $2 AND removed_at IS NULL
RETURNING id, booking_id, campaign_id, platform, url, platform_post_id, registered_at, removed_at
