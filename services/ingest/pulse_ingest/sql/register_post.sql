-- Returns a row only when this registration was applied (not an older duplicate).
INSERT INTO ingest.tracked_posts
    (id, org_id, booking_id, campaign_id, platform, url, platform_post_id, registered_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
ON CONFLICT (id) DO UPDATE
SET booking_id = excluded.booking_id, campaign_id = excluded.campaign_id,
    platform = excluded.platform, url = excluded.url,
    platform_post_id = COALESCE(excluded.platform_post_id, ingest.tracked_posts.platform_post_id),
    registered_at = excluded.registered_at
WHERE ingest.tracked_posts.registered_at < excluded.registered_at
RETURNING removed_at IS NOT NULL AS removed, deleted_at IS NOT NULL AS deleted
