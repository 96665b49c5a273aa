SELECT id, channel, raw
FROM ingest.rejected_items
WHERE org_id = $1
  AND id = ANY ($2::bigint[])
  AND resolved_at IS NULL
ORDER BY id
FOR UPDATE
