INSERT INTO alerter.notification_channels
    (id, org_id, kind, name, target, format, min_severity, enabled, signing_secret, created_at,
     updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
RETURNING id, kind, name, target, format, min_severity, enabled, created_at, updated_at
