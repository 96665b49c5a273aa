INSERT INTO ingest.benchmark_days (account_id, day, followers, median_views)
VALUES ($1, $2, $3, $4)
ON CONFLICT (account_id, day) DO UPDATE
SET followers = excluded.followers, median_views = excluded.median_views
