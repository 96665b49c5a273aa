SELECT id, kind, name, target, format, min_severity, enabled, created_at, updated_at
FROM alerter.notification_channels
WHERE org_id = $1 AND id = $2
