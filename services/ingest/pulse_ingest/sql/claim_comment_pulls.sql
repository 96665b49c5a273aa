-- The posts of a fetch command whose comments are due, claimed in one statement so that a
-- concurrent command for the same post does not fetch them too. A check stamped in the future
-- (a clock moved backwards) counts as due.
UPDATE ingest.tracked_posts AS p
SET comments_checked_at = $3::timestamptz
WHERE p.org_id = $1
  AND p.id = ANY ($2::uuid[])
  AND p.removed_at IS NULL
  AND p.deleted_at IS NULL
  AND (p.comments_checked_at IS NULL
    OR p.comments_checked_at <= $3::timestamptz - $4::interval
    OR p.comments_checked_at > $3::timestamptz)
RETURNING p.id, p.booking_id, p.campaign_id, p.platform, p.url
