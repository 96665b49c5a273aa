-- Enabled channels of the organization whose minimum severity the alert reaches.
SELECT id, kind, format
FROM alerter.notification_channels
WHERE org_id = $1
  AND enabled
  AND array_position(ARRAY['info', 'warning', 'critical'], min_severity)
      <= array_position(ARRAY['info', 'warning', 'critical'], $2::text)
