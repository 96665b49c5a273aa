-- Replayed and still refused: kept, with the new reason (held again only as unknown_post).
UPDATE ingest.rejected_items AS r
SET code       = n.code,
    message    = n.message,
    held_until = CASE WHEN n.code = 'unknown_post' THEN r.held_until END
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS n (id, code, message)
WHERE r.id = n.id
