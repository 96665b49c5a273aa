SELECT p.id AS post_id, p.booking_id, p.platform, p.url, p.registered_at, p.posted_at,
       p.last_success_at, p.last_attempt_at, p.consecutive_failures, p.last_error_code,
       p.last_error, p.queued_at, p.deleted_seen_at, p.deleted_at,
       COALESCE(o.is_test, false) AS org_is_test,
       s.paused_at
FROM ingest.tracked_posts AS p
LEFT JOIN ingest.organizations AS o ON o.id = p.org_id
LEFT JOIN ingest.provider_state AS s ON s.org_id = p.org_id
WHERE p.org_id = $1
  AND p.campaign_id = $2
  AND p.removed_at IS NULL
ORDER BY p.registered_at, p.id
