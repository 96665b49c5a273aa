-- $4: the provider said the post does not exist. The first such answer starts the streak;
-- one that comes $5 or more after it marks the post deleted. Other failures (a 500 on one of
-- the daily re-checks) leave the streak as it is: only a success ends it.
UPDATE ingest.tracked_posts
SET last_attempt_at      = GREATEST(last_attempt_at, $2),
    consecutive_failures = consecutive_failures + 1,
    last_error_code      = $3,
    last_error           = $6,
    queued_at            = NULL,
    deleted_seen_at      = CASE WHEN $4 THEN COALESCE(deleted_seen_at, $2) ELSE deleted_seen_at END,
    deleted_at           = CASE WHEN $4 AND deleted_seen_at IS NOT NULL
                                     AND $2 - deleted_seen_at >= $5 THEN $2 END
WHERE id = $1
RETURNING consecutive_failures, deleted_seen_at, deleted_at
