INSERT INTO catalog.alert_snoozes (org_id, alert_id, until, snoozed_by)
VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, alert_id)
DO UPDATE SET until = excluded.until, snoozed_by = excluded.snoozed_by, snoozed_at = now()
RETURNING alert_id, until
