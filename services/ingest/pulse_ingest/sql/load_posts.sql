SELECT key, id, booking_id, campaign_id, platform, platform_post_id, url,
       removed_at IS NOT NULL AS removed, posted_at, caption, thumb_url
FROM ingest.tracked_posts
WHERE org_id = $1
  AND (id = ANY ($2::uuid[]) OR platform_post_id = ANY ($3::text[]) OR url = ANY ($4::text[]))
