-- Returns the campaign the booking belonged to before (null when new); no row when the copy
-- held is already as new. Never clears deleted_at.
WITH previous AS (SELECT campaign_id FROM share.bookings WHERE id = $1)
INSERT INTO share.bookings AS b (id, org_id, campaign_id, influencer_id, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE
SET campaign_id = excluded.campaign_id, influencer_id = excluded.influencer_id,
    updated_at = excluded.updated_at
WHERE b.updated_at < excluded.updated_at AND b.org_id = excluded.org_id
RETURNING (SELECT campaign_id FROM previous) AS previous
