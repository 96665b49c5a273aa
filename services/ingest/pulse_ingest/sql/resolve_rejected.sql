UPDATE ingest.rejected_items
SET resolved_at = $2,
    held_until  = NULL
WHERE id = ANY ($1::bigint[])
