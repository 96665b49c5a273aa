-- A comments fetch that made no call (circuit open) gives its claim back, so the next pull of
-- the post tries again instead of waiting a whole cadence; only if the claim is still ours.
UPDATE ingest.tracked_posts
SET comments_checked_at = NULL
WHERE id = $1
  AND comments_checked_at = $2
