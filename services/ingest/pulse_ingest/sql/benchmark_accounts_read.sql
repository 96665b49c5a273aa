-- The accounts of the organization among `ids`, each with its status and rollup.
SELECT a.id, a.platform, a.handle, a.status, a.status_detail, a.last_pulled_at, a.followers,
       r.as_of, r.posts_30d, r.posts_per_week, r.median_views, r.median_engagement_rate,
       r.follower_growth_pct, r.view_growth_pct, r.growth_days
FROM ingest.benchmark_accounts AS a
LEFT JOIN ingest.benchmark_rollups AS r ON r.account_id = a.id
WHERE a.org_id = $1 AND a.id = ANY ($2::uuid[]) AND a.removed_at IS NULL
