UPDATE ingest.tracked_posts
SET queued_at = NULL
WHERE id = ANY ($1::uuid[])
