-- No call was made (circuit open, organization paused): the pending mark goes, the error shows.
UPDATE ingest.tracked_posts
SET queued_at = NULL, last_error_code = $2, last_error = $3
WHERE id = ANY ($1::uuid[])
