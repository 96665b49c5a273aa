INSERT INTO aggregator.posts AS p
    (id, org_id, booking_id, campaign_id, platform, registered_at, removed_at)
VALUES ($1, $2, $3, $4, 'other', '-infinity', $5)
ON CONFLICT (id) DO UPDATE SET removed_at = COALESCE(p.removed_at, excluded.removed_at)
RETURNING p.campaign_id
