SELECT id, campaign_id, booking_id, post_id, type, scope, severity, message, debounce_key,
       status, raised_at, last_seen_at, resolved_at, resolved_by, resolved_by_user,
       resolution_note
FROM alerter.alerts
WHERE org_id = $1
  AND ($2::text IS NULL OR status = $2)
  AND ($3::text IS NULL OR type = $3)
  AND ($4::text IS NULL OR severity = $4)
  AND ($5::uuid IS NULL OR campaign_id = $5)
  AND ($6::timestamptz IS NULL OR (raised_at, id) < ($6, $7))
ORDER BY raised_at DESC, id DESC
LIMIT $8
