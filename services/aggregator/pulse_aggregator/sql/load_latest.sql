-- Each post's latest sample: the close of its newest day.
SELECT p.id AS post_id, d.observed_at, d.views, d.likes, d.comments, d.shares, d.saves,
       d.reach, d.estimated
FROM aggregator.posts AS p
CROSS JOIN LATERAL (
    SELECT n.observed_at, n.views, n.likes, n.comments, n.shares, n.saves, n.reach, n.estimated
    FROM aggregator.post_daily AS n
    WHERE n.post_id = p.id
    ORDER BY n.day DESC
    LIMIT 1
) AS d
WHERE p.campaign_id = $1
