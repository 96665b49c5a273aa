INSERT INTO catalog.bookings AS b
    (id, org_id, campaign_id, influencer_id, fee_cents, committed_views, committed_engagement,
     committed_posts, min_engagement_rate, exclusivity_days, usage_rights_days, notes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING b.id, b.campaign_id, b.influencer_id,
       (SELECT i.display_name FROM catalog.influencers i
        WHERE i.org_id = b.org_id AND i.id = b.influencer_id) AS influencer_name,
       b.fee_cents, b.committed_views, b.committed_engagement, b.committed_posts,
       b.min_engagement_rate, b.exclusivity_days, b.usage_rights_days, b.notes, b.created_at,
       b.updated_at
