-- The posts of one fetch command, as they are now (the command may be minutes old).
SELECT p.id, p.booking_id, p.campaign_id, p.platform, p.url,
       p.removed_at IS NOT NULL AS removed, p.deleted_at IS NOT NULL AS deleted,
       COALESCE(o.is_test, false) AS org_is_test
FROM ingest.tracked_posts AS p
LEFT JOIN ingest.organizations AS o ON o.id = p.org_id
WHERE p.org_id = $1
  AND p.id = ANY ($2::uuid[])
