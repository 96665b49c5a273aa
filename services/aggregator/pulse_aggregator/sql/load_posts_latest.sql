-- The campaign's posts, each with its latest sample: the close of its newest day.
SELECT p.id, p.booking_id, p.campaign_id, p.platform, p.url, p.posted_at, p.caption,
       p.thumb_url, p.removed_at IS NOT NULL AS removed,
       d.observed_at, d.views, d.likes, d.comments, d.shares, d.saves, d.reach, d.estimated
FROM aggregator.posts AS p
LEFT JOIN LATERAL (
    SELECT n.observed_at, n.views, n.likes, n.comments, n.shares, n.saves, n.reach, n.estimated
    FROM aggregator.post_daily AS n
    WHERE n.post_id = p.id
    ORDER BY n.day DESC
    LIMIT 1
) AS d ON true
WHERE p.campaign_id = $1
