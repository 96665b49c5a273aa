SELECT id, campaign_id, booking_id, platform, registered_at, posted_at, removed_at,
       last_data_at, failures, failures_at, comments_analysed, comments_negative
FROM alerter.posts
WHERE campaign_id = $1
