-- An item for a post the organization has not registered (yet) is held for 24 hours: a
-- registration in that time applies it (held.py).
INSERT INTO ingest.rejected_items (org_id, channel, item_index, code, message, raw, held_until)
SELECT $1, $2, r.item_index, r.code, r.message, r.raw,
       CASE WHEN r.code = 'unknown_post' AND $1::uuid IS NOT NULL
            THEN now() + interval '24 hours' END
FROM unnest($3::integer[], $4::text[], $5::text[], $6::jsonb[]) AS r (item_index, code, message, raw)
