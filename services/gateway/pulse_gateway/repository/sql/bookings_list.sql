SELECT {{ bookings_row }}
FROM catalog.bookings b
WHERE b.org_id = $1
  AND b.campaign_id = $2
  AND b.deleted_at IS NULL
  AND ($3::timestamptz IS NULL OR (b.created_at, b.id) < ($3, $4))
ORDER BY b.created_at DESC, b.id DESC
LIMIT $5
