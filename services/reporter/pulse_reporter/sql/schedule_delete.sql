DELETE FROM reporter.schedules WHERE org_id = $1 AND campaign_id = $2 RETURNING id
