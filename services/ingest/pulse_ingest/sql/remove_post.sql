-- Removal before registration still leaves a tombstone, so a late registration stays removed.
INSERT INTO ingest.tracked_posts
    (id, org_id, booking_id, campaign_id, platform, url, registered_at, removed_at, updated_at)
VALUES ($1, $2, $3, $4, 'other', '', '-infinity', $5, $5)
ON CONFLICT (id) DO UPDATE
SET removed_at = GREATEST(COALESCE(ingest.tracked_posts.removed_at, excluded.removed_at),
                          excluded.removed_at)
