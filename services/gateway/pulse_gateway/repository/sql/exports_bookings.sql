SELECT id, campaign_id, influencer_id, fee_cents, committed_views, committed_engagement,
       committed_posts, min_engagement_rate, exclusivity_days, usage_rights_days, notes,
       created_at, updated_at
FROM catalog.bookings WHERE org_id = $1 AND deleted_at IS NULL ORDER BY created_at, id
