SELECT id, campaign_id, influencer_id, deleted_at IS NOT NULL AS deleted
FROM share.bookings
WHERE org_id = $2 AND (campaign_id = $1 OR id = ANY($3::uuid[]))
