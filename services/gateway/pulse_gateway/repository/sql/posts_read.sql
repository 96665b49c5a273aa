SELECT id, booking_id, campaign_id, platform, url, platform_post_id, registered_at
FROM catalog.posts
WHERE org_id = $1 AND id = $2 AND removed_at IS NULL
