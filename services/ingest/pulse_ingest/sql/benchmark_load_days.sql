SELECT day, followers, median_views
FROM ingest.benchmark_days
WHERE account_id = $1 AND day >= $2
ORDER BY day
