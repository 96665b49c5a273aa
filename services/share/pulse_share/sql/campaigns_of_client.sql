SELECT id FROM share.campaign_refs
WHERE client_id = $1 AND org_id = $2 AND deleted_at IS NULL
ORDER BY id
