INSERT INTO share.influencers AS i
    (id, org_id, display_name, avatar_url, tier, platforms, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE
SET display_name = excluded.display_name, avatar_url = excluded.avatar_url,
    tier = excluded.tier, platforms = excluded.platforms, updated_at = excluded.updated_at
WHERE i.updated_at < excluded.updated_at AND i.org_id = excluded.org_id
RETURNING true
