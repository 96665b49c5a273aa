SELECT {{ influencers_row }}
FROM catalog.influencers
WHERE org_id = $1
  AND deleted_at IS NULL
  AND ($2::text IS NULL OR display_name ILIKE $2)
  AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
ORDER BY created_at DESC, id DESC
LIMIT $5
