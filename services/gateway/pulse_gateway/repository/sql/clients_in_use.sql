SELECT EXISTS (
    SELECT 1 FROM catalog.campaigns WHERE org_id = $1 AND client_id = $2 AND deleted_at IS NULL
)
