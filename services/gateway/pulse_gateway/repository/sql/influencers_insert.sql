INSERT INTO catalog.influencers (org_id, id, display_name, avatar_url, tier, notes)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING {{ influencers_row }}
