-- The organization's tracked posts an outcome may name (by id, URL or platform post id).
SELECT id, booking_id, campaign_id, platform, platform_post_id, url,
       removed_at IS NOT NULL AS removed
FROM ingest.tracked_posts
WHERE org_id = $1
  AND (id = ANY ($2::uuid[]) OR url = ANY ($3::text[]) OR platform_post_id = ANY ($4::text[]))
