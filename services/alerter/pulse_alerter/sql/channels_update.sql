UPDATE alerter.notification_channels
SET name = $3, target = $4, format = $5, min_severity = $6, enabled = $7,
    updated_at = clock_timestamp()
WHERE org_id = $1 AND id = $2
RETURNING id, kind, name, target, format, min_severity, enabled, created_at, updated_at
