SELECT influencer_id, platform, handle, followers
FROM catalog.influencer_handles WHERE org_id = $1 ORDER BY influencer_id, platform, handle
