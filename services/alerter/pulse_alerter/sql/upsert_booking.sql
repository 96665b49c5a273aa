INSERT INTO alerter.bookings AS b (id, campaign_id, influencer_id, updated_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE
SET campaign_id = excluded.campaign_id, influencer_id = excluded.influencer_id,
    updated_at = excluded.updated_at
WHERE b.updated_at < excluded.updated_at
