SELECT b.id, b.campaign_id, b.influencer_id,
       (SELECT i.display_name FROM catalog.influencers i
        WHERE i.org_id = b.org_id AND i.id = b.influencer_id) AS influencer_name,
       b.fee_cents, b.committed_views, b.committed_engagement, b.committed_posts,
       b.min_engagement_rate, b.exclusivity_days, b.usage_rights_days, b.notes, b.created_at,
       b.updated_at,
       c.name AS campaign_name, c.status AS campaign_status, c.currency,
       c.start_date, c.end_date
FROM catalog.bookings b
JOIN catalog.campaigns c ON c.org_id = b.org_id AND c.id = b.campaign_id
WHERE b.org_id = $1
  AND b.influencer_id = $2
  AND b.deleted_at IS NULL
  AND c.deleted_at IS NULL
ORDER BY b.created_at DESC, b.id DESC
