DELETE FROM aggregator.pending_closes
WHERE campaign_id = $1
RETURNING post_id, observed_at, views, likes, comments, shares, saves, reach, estimated
