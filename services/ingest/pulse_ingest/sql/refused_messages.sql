SELECT id, received_at, channel, code, message, left(raw::text, $2) AS raw
FROM ingest.rejected_items
WHERE org_id IS NULL
ORDER BY id DESC
LIMIT $1
