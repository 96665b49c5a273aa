UPDATE ingest.tracked_posts
SET last_attempt_at      = GREATEST(last_attempt_at, $2),
    last_success_at      = GREATEST(last_success_at, $2),
    consecutive_failures = 0,
    last_error_code      = NULL,
    last_error           = NULL,
    deleted_seen_at      = NULL,
    queued_at            = NULL
WHERE id = $1
