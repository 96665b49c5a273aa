-- A resolution goes to the enabled channels that were told about the alert being raised.
SELECT c.id, c.kind, c.format
FROM alerter.notification_channels c
WHERE c.org_id = $1
  AND c.enabled
  AND EXISTS (
      SELECT 1 FROM alerter.notification_deliveries d
      WHERE d.channel_id = c.id AND d.alert_id = $2 AND d.event_type = 'alert.raised'
  )
