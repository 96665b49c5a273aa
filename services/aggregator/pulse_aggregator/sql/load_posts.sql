SELECT id, booking_id, campaign_id, platform, url, posted_at, caption, thumb_url,
       removed_at IS NOT NULL AS removed
FROM aggregator.posts
WHERE campaign_id = $1
