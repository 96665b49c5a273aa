INSERT INTO aggregator.bookings AS b
    (id, org_id, campaign_id, influencer_id, fee_cents, committed_views, committed_engagement,
     committed_posts, min_engagement_rate, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (id) DO UPDATE
SET campaign_id = excluded.campaign_id, influencer_id = excluded.influencer_id,
    fee_cents = excluded.fee_cents, committed_views = excluded.committed_views,
    committed_engagement = excluded.committed_engagement,
    committed_posts = excluded.committed_posts,
    min_engagement_rate = excluded.min_engagement_rate, updated_at = excluded.updated_at
WHERE b.updated_at < excluded.updated_at
RETURNING (SELECT campaign_id FROM aggregator.bookings WHERE id = $1) AS previous_campaign_id
