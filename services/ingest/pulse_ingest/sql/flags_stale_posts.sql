-- Tracked posts without fresh data: no sample (from any source: Pulse's pulls, n8n, imports)
-- and no successful pull for $2, counted from registration for a post never sampled; or
-- failing $3 times in a row. Stalest first; $4 rows at most.
SELECT p.id, p.campaign_id, p.platform, p.url, p.last_success_at, p.consecutive_failures,
       p.last_error_code
FROM ingest.tracked_posts p
WHERE p.org_id = $1
  AND p.removed_at IS NULL
  AND p.deleted_at IS NULL
  AND p.platform <> 'other'
  AND (GREATEST(p.last_success_at, p.registered_at,
                (SELECT max(s.observed_at) FROM ingest.samples s WHERE s.post_key = p.key))
           < now() - $2::interval
       OR p.consecutive_failures >= $3)
ORDER BY p.last_success_at NULLS FIRST
LIMIT $4
