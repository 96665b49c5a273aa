INSERT INTO alerter.alert_history (alert_id, at, action, severity, actor, note)
VALUES ($1, $2, $3, $4, $5, $6)
