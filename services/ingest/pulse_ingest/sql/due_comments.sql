-- Posts whose comments are due (pulling.py, "Comments"): pulled successfully within the last
-- cadence ($2) and either never asked for comments or pulled at least a cadence after they
-- last were; never for removed, deleted, test, or paused organizations' posts. Oldest pull
-- first. Read without locks: each is claimed on its own just before its call
-- (claim_comment_pulls.sql). command_id is the fetch command of the post's latest successful
-- pull, which the comment pull is recorded against.
SELECT p.id, p.org_id,
       COALESCE((SELECT r.command_id
                 FROM ingest.pull_runs AS r
                 WHERE r.post_id = p.id AND r.status = 'ok'
                 ORDER BY r.started_at DESC
                 LIMIT 1), gen_random_uuid()) AS command_id
FROM ingest.tracked_posts AS p
LEFT JOIN ingest.organizations AS o ON o.id = p.org_id
LEFT JOIN ingest.provider_state AS s ON s.org_id = p.org_id
WHERE p.removed_at IS NULL
  AND p.deleted_at IS NULL
  AND p.platform <> 'other'
  AND p.last_success_at > $1::timestamptz - $2::interval
  AND (p.comments_checked_at IS NULL
    OR p.comments_checked_at <= p.last_success_at - $2::interval)
  AND NOT COALESCE(o.is_test, false)
  AND s.paused_at IS NULL
ORDER BY p.last_success_at
LIMIT $3
