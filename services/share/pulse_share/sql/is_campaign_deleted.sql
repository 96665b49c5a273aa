SELECT EXISTS (
    SELECT 1 FROM share.campaign_refs WHERE id = $1 AND deleted_at IS NOT NULL
)
