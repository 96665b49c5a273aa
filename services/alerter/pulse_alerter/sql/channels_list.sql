SELECT id, kind, name, target, format, min_severity, enabled, created_at, updated_at
FROM alerter.notification_channels
WHERE org_id = $1
  AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
ORDER BY created_at, id
LIMIT $4
