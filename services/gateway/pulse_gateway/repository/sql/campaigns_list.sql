SELECT {{ campaigns_row }}
FROM catalog.campaigns c
WHERE c.org_id = $1
  AND c.deleted_at IS NULL
  AND ($2::text IS NULL OR c.status = $2)
  AND ($3::uuid IS NULL OR c.client_id = $3)
  AND ($4::text IS NULL OR c.name ILIKE $4)
  AND ($5::timestamptz IS NULL OR (c.created_at, c.id) < ($5, $6))
ORDER BY c.created_at DESC, c.id DESC
LIMIT $7
