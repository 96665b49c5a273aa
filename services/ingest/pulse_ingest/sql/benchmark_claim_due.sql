-- Accounts not attempted for `every`, oldest first, claimed (last_attempt_at) so another
-- replica's pass skips them; never those of a test organization or one paused for credits.
UPDATE ingest.benchmark_accounts AS a
SET last_attempt_at = $1
WHERE a.id IN (
    SELECT b.id
    FROM ingest.benchmark_accounts AS b
    WHERE b.removed_at IS NULL
      AND (b.last_attempt_at IS NULL OR b.last_attempt_at <= $1::timestamptz - $2::interval)
      AND NOT COALESCE((SELECT o.is_test FROM ingest.organizations AS o WHERE o.id = b.org_id), false)
      AND NOT EXISTS (SELECT 1 FROM ingest.provider_state AS p
                      WHERE p.org_id = b.org_id AND p.paused_at IS NOT NULL)
    ORDER BY b.last_attempt_at NULLS FIRST, b.id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
RETURNING a.id, a.org_id, a.platform, a.handle
