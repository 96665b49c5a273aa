-- The account's posts of the rollup window (and a day's margin for clock skew).
SELECT platform_post_id, posted_at, caption, views, likes, comments, shares, saves
FROM ingest.benchmark_posts
WHERE account_id = $1 AND posted_at > $2
