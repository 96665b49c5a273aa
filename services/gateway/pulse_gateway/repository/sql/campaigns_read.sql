SELECT {{ campaigns_row }}
FROM catalog.campaigns c
WHERE c.org_id = $1 AND c.id = $2 AND c.deleted_at IS NULL
