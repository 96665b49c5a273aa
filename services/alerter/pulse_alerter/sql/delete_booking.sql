WITH tomb AS (
    INSERT INTO alerter.deleted_bookings (id, campaign_id, deleted_at) VALUES ($1, $2, $3)
    ON CONFLICT (id) DO NOTHING
)
UPDATE alerter.posts SET removed_at = coalesce(removed_at, $3) WHERE booking_id = $1
