INSERT INTO ingest.benchmark_rollups
    (account_id, as_of, posts_30d, posts_per_week, median_views, median_engagement_rate,
     follower_growth_pct, view_growth_pct, growth_days)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (account_id) DO UPDATE
SET as_of = excluded.as_of, posts_30d = excluded.posts_30d,
    posts_per_week = excluded.posts_per_week, median_views = excluded.median_views,
    median_engagement_rate = excluded.median_engagement_rate,
    follower_growth_pct = excluded.follower_growth_pct,
    view_growth_pct = excluded.view_growth_pct, growth_days = excluded.growth_days
