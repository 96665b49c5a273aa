SELECT b.id AS booking_id, b.influencer_id, i.display_name
FROM catalog.bookings AS b JOIN catalog.influencers AS i ON i.id = b.influencer_id
WHERE b.org_id = $1 AND b.campaign_id = $2 AND b.deleted_at IS NULL
