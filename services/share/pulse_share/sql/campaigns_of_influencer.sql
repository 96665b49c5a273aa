SELECT DISTINCT b.campaign_id AS id
FROM share.bookings b
WHERE b.influencer_id = $1 AND b.org_id = $2 AND b.deleted_at IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM share.campaign_refs c WHERE c.id = b.campaign_id AND c.deleted_at IS NOT NULL
  )
ORDER BY 1
