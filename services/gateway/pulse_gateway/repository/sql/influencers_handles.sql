SELECT influencer_id, platform, handle, followers
FROM catalog.influencer_handles
WHERE org_id = $1 AND influencer_id = ANY($2::uuid[])
ORDER BY influencer_id, platform, handle
