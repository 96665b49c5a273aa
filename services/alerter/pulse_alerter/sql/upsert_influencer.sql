INSERT INTO alerter.influencers AS i (id, org_id, display_name, handles, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE
SET display_name = excluded.display_name, handles = excluded.handles,
    updated_at = excluded.updated_at
WHERE i.updated_at < excluded.updated_at
