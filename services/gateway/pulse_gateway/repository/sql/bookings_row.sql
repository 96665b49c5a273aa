b.id, b.campaign_id, b.influencer_id,
       (SELECT i.display_name FROM catalog.influencers i
        WHERE i.org_id = b.org_id AND i.id = b.influencer_id) AS influencer_name,
       b.fee_cents, b.committed_views, b.committed_engagement, b.committed_posts,
       b.min_engagement_rate, b.exclusivity_days, b.usage_rights_days, b.notes, b.created_at,
       b.updated_at
