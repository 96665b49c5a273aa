SELECT l.post_id, l.observed_at, l.views, l.likes, l.comments, l.shares, l.saves, l.reach,
       l.estimated
FROM aggregator.post_latest AS l
WHERE l.post_id = ANY ($1::uuid[])
