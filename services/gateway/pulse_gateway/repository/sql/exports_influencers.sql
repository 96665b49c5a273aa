SELECT id, display_name, avatar_url, tier, notes, created_at, updated_at
FROM catalog.influencers WHERE org_id = $1 AND deleted_at IS NULL ORDER BY created_at, id
