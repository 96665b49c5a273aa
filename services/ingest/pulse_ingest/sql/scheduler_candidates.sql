-- Posts that may be due: pullable, not refreshed within the shortest interval ($2), and not
-- pending (or pending for longer than the queue timeout, $3). The policy decides the rest.
SELECT p.id AS post_id, p.org_id, p.platform, p.url, p.registered_at, p.posted_at,
       p.last_success_at, p.last_attempt_at, p.consecutive_failures, p.deleted_seen_at,
       p.deleted_at, p.queued_at,
       c.end_date AS campaign_end_date,
       c.deleted_at IS NOT NULL AS campaign_deleted,
       COALESCE(o.is_test, false) AS org_is_test,
       s.paused_at IS NOT NULL AS org_paused
FROM ingest.tracked_posts AS p
LEFT JOIN ingest.organizations AS o ON o.id = p.org_id
LEFT JOIN ingest.campaigns AS c ON c.id = p.campaign_id
LEFT JOIN ingest.provider_state AS s ON s.org_id = p.org_id
WHERE p.removed_at IS NULL
  AND p.deleted_at IS NULL
  AND p.platform <> 'other'
  AND (p.last_success_at IS NULL OR p.last_success_at <= $1::timestamptz - $2::interval
       OR p.deleted_seen_at IS NOT NULL)
  AND (p.queued_at IS NULL OR p.queued_at <= $1::timestamptz - $3::interval)
