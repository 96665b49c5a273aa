SELECT id, client_id, name, status, start_date, end_date, deleted_at IS NOT NULL AS deleted
FROM share.campaign_refs
WHERE id = $1 AND org_id = $2
