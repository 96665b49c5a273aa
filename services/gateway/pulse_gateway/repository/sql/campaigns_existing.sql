SELECT id FROM catalog.campaigns
WHERE org_id = $1 AND id = ANY ($2::uuid[]) AND deleted_at IS NULL
