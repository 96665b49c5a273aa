UPDATE ingest.tracked_posts
SET queued_at = $2
WHERE id = ANY ($1::uuid[])
