SELECT id, received_at, channel, item_index, code, message, raw
FROM ingest.rejected_items
WHERE org_id = $1
  AND id < $2
ORDER BY id DESC
LIMIT $3
