-- Items still refused (replayed or applied ones have resolved_at), newest first; $4 filters by
-- code when given.
SELECT id, received_at, channel, item_index, code, message, raw,
       held_until IS NOT NULL AND held_until > now() AS held, held_until
FROM ingest.rejected_items
WHERE org_id = $1
  AND id < $2
  AND resolved_at IS NULL
  AND ($4::text IS NULL OR code = $4)
ORDER BY id DESC
LIMIT $3
