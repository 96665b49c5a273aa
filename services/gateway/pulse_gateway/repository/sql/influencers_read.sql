SELECT {{ influencers_row }}
FROM catalog.influencers
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
