-- Items held for a post not registered yet ($2: still held at this time) that name this post:
-- its URL ($3), platform post id ($4) or id ($5) appears in the item as sent. Locked: one
-- registration applies them once.
SELECT id, channel, raw
FROM ingest.rejected_items
WHERE org_id = $1
  AND held_until > $2
  AND resolved_at IS NULL
  AND code = 'unknown_post'
  AND (strpos(raw::text, $3) > 0
       OR ($4::text IS NOT NULL AND strpos(raw::text, $4) > 0)
       OR strpos(raw::text, $5::text) > 0)
ORDER BY id
LIMIT 1000
FOR UPDATE SKIP LOCKED
