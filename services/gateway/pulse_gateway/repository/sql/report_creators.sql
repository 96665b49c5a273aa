SELECT i.id, i.display_name, i.tier,
       coalesce(array_agg(DISTINCT h.platform) FILTER (WHERE h.platform IS NOT NULL), '{}')
           AS platforms
FROM catalog.influencers AS i
LEFT JOIN catalog.influencer_handles AS h ON h.influencer_id = i.id AND h.org_id = i.org_id
WHERE i.org_id = $1
  AND i.id IN (SELECT influencer_id FROM catalog.bookings WHERE org_id = $1 AND campaign_id = $2)
GROUP BY i.id, i.display_name, i.tier
