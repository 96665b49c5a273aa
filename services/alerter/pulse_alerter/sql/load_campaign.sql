SELECT id, org_id, name, status, start_date, end_date, updated_at, deleted_at
FROM alerter.campaigns
WHERE id = $1
