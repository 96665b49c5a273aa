-- Registration may arrive after post.* events already created the row; a post of a deleted
-- booking is born removed.
INSERT INTO alerter.posts AS p (id, org_id, campaign_id, booking_id, platform, registered_at,
                                removed_at)
VALUES ($1, $2, $3, $4, $5, $6,
        (SELECT deleted_at FROM alerter.deleted_bookings WHERE id = $4))
ON CONFLICT (id) DO UPDATE
SET platform = excluded.platform, registered_at = excluded.registered_at,
    removed_at = coalesce(p.removed_at, excluded.removed_at)
