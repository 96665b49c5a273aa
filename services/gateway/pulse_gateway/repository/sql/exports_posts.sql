SELECT p.id, p.booking_id, p.campaign_id, p.platform, p.url, p.platform_post_id,
       p.registered_at, p.removed_at
FROM catalog.posts AS p
JOIN catalog.bookings AS b ON b.id = p.booking_id AND b.deleted_at IS NULL
WHERE p.org_id = $1 ORDER BY p.registered_at, p.id
