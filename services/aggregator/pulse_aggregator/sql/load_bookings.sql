SELECT id, campaign_id, influencer_id, fee_cents, committed_views, committed_engagement,
       committed_posts, min_engagement_rate, deleted_at IS NOT NULL AS deleted
FROM aggregator.bookings
WHERE campaign_id = $1
