SELECT at, action, severity, actor, note
FROM alerter.alert_history
WHERE alert_id = $1
ORDER BY id
