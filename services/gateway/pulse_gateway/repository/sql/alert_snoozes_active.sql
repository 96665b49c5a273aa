SELECT alert_id, until
FROM catalog.alert_snoozes
WHERE org_id = $1 AND alert_id = ANY ($2::uuid[]) AND until > $3
