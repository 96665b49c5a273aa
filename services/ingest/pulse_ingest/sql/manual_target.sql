SELECT id, platform, url
FROM ingest.tracked_posts
WHERE org_id = $1
  AND id = $2
  AND removed_at IS NULL
