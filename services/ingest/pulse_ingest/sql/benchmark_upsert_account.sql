-- A changed platform or handle is another account to pull: it starts again as pending.
INSERT INTO ingest.benchmark_accounts AS a (id, org_id, set_id, platform, handle, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE
SET set_id = excluded.set_id, platform = excluded.platform, handle = excluded.handle,
    updated_at = excluded.updated_at,
    status = CASE WHEN (a.platform, lower(a.handle)) = (excluded.platform, lower(excluded.handle))
                  THEN a.status ELSE 'pending' END,
    last_attempt_at = CASE WHEN (a.platform, lower(a.handle))
                                = (excluded.platform, lower(excluded.handle))
                           THEN a.last_attempt_at END
WHERE a.updated_at < excluded.updated_at AND a.removed_at IS NULL
