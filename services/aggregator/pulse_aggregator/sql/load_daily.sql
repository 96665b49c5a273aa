SELECT d.post_id, d.observed_at, d.views, d.likes, d.comments, d.shares, d.saves, d.reach,
       d.estimated
FROM aggregator.post_daily AS d
WHERE d.post_id = ANY ($1::uuid[])
