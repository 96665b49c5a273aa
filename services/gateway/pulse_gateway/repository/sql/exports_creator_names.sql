SELECT DISTINCT i.id, i.display_name
FROM catalog.bookings AS b
JOIN catalog.influencers AS i ON i.id = b.influencer_id AND i.org_id = b.org_id
WHERE b.org_id = $1 AND b.campaign_id = $2
