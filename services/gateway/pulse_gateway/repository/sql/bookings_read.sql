-- A booking of a deleted campaign is gone with it.
SELECT {{ bookings_row }}
FROM catalog.bookings b
WHERE b.org_id = $1 AND b.id = $2 AND b.deleted_at IS NULL
  AND EXISTS (
      SELECT 1 FROM catalog.campaigns c
      WHERE c.org_id = $1 AND c.id = b.campaign_id AND c.deleted_at IS NULL
  )
