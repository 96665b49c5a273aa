UPDATE catalog.influencers
SET display_name = $3, avatar_url = $4, tier = $5, notes = $6, updated_at = clock_timestamp()
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
RETURNING {{ influencers_row }}
