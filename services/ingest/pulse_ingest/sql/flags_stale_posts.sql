-- Tracked posts without fresh data: no successful pull for $2 (or never, registered before
-- that), or failing $3 times in a row. Newest problem first; $4 rows at most.
SELECT id, campaign_id, platform, url, last_success_at, consecutive_failures, last_error_code
FROM ingest.tracked_posts
WHERE org_id = $1
  AND removed_at IS NULL
  AND deleted_at IS NULL
  AND platform <> 'other'
  AND (COALESCE(last_success_at, registered_at) < now() - $2::interval
       OR consecutive_failures >= $3)
ORDER BY last_success_at NULLS FIRST
LIMIT $4
