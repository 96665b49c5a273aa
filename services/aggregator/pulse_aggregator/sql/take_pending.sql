-- The samples waiting for this campaign, removed from the queue, reduced to one close per post
-- and UTC day: the fold's work then grows with the posts and days touched, not with how many
-- samples a backlog held. The ORDER BY is domain.newer's order (greatest first), as in
-- upsert_daily.sql: observed_at, views (n/a as 0), every counter (n/a below 0), measured first.
WITH taken AS (
    DELETE FROM aggregator.pending_closes
    WHERE campaign_id = $1
    RETURNING post_id, observed_at, views, likes, comments, shares, saves, reach, estimated
)
SELECT DISTINCT ON (post_id, (observed_at AT TIME ZONE 'UTC')::date)
       post_id, observed_at, views, likes, comments, shares, saves, reach, estimated
FROM taken
ORDER BY post_id, (observed_at AT TIME ZONE 'UTC')::date, observed_at DESC,
         COALESCE(views, 0) DESC, COALESCE(views, -1) DESC, COALESCE(likes, -1) DESC,
         COALESCE(comments, -1) DESC, COALESCE(shares, -1) DESC, COALESCE(saves, -1) DESC,
         COALESCE(reach, -1) DESC, estimated ASC
