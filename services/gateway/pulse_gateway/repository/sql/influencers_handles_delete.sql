DELETE FROM catalog.influencer_handles
WHERE org_id = $1 AND influencer_id = $2
