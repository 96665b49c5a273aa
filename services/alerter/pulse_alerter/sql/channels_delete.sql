DELETE FROM alerter.notification_channels
WHERE org_id = $1 AND id = $2
RETURNING id
