-- A booking of a deleted campaign is gone with it.
SELECT b.id, b.campaign_id, b.influencer_id,
       (SELECT i.display_name FROM catalog.influencers i
        WHERE i.org_id = b.org_id AND i.id = b.influencer_id) AS influencer_name,
       b.fee_cents, b.committed_views, b.committed_engagement, b.committed_posts,
       b.min_engagement_rate, b.exclusivity_days, b.usage_rights_days, b.notes, b.created_at,
       b.updated_at
FROM catalog.bookings b
WHERE b.org_id = $1 AND b.id = $2 AND b.deleted_at IS NULL
  AND EXISTS (
      SELECT 1 FROM catalog.campaigns c
      WHERE c.org_id = $1 AND c.id = b.campaign_id AND c.deleted_at IS NULL
  )
FOR UPDATE OF b
