SELECT id, display_name, avatar_url, tier, platforms
FROM share.influencers
WHERE org_id = $1 AND id = ANY($2::uuid[])
