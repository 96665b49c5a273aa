SELECT b.id, b.campaign_id, b.influencer_id,
       (SELECT i.display_name FROM catalog.influencers i
        WHERE i.org_id = b.org_id AND i.id = b.influencer_id) AS influencer_name,
       b.fee_cents, b.committed_views, b.committed_engagement, b.committed_posts,
       b.min_engagement_rate, b.exclusivity_days, b.usage_rights_days, b.notes, b.created_at,
       b.updated_at
FROM catalog.bookings b
WHERE b.org_id = $1
  AND b.campaign_id = $2
  AND b.deleted_at IS NULL
  AND ($3::timestamptz IS NULL OR (b.created_at, b.id) < ($3, $4))
ORDER BY b.created_at DESC, b.id DESC
LIMIT $5
