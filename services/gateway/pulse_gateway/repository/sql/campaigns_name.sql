SELECT name FROM catalog.campaigns WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
