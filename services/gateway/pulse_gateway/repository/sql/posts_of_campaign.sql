SELECT p.id, p.booking_id, p.campaign_id, p.platform, p.url, p.platform_post_id,
       p.registered_at, b.influencer_id,
       (SELECT i.display_name FROM catalog.influencers i
        WHERE i.org_id = p.org_id AND i.id = b.influencer_id) AS influencer_name
FROM catalog.posts p
JOIN catalog.bookings b ON b.org_id = p.org_id AND b.id = p.booking_id
WHERE p.org_id = $1
  AND p.campaign_id = $2
  AND p.removed_at IS NULL
  AND ($3::timestamptz IS NULL OR (p.registered_at, p.id) < ($3, $4))
ORDER BY p.registered_at DESC, p.id DESC
LIMIT $5
