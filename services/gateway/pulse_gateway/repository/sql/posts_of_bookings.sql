SELECT id, booking_id, campaign_id, platform, url, platform_post_id, registered_at
FROM catalog.posts
WHERE org_id = $1 AND booking_id = ANY($2::uuid[]) AND removed_at IS NULL
ORDER BY registered_at DESC, id DESC
