INSERT INTO ingest.rejected_items (org_id, channel, item_index, code, message, raw)
SELECT $1, $2, r.item_index, r.code, r.message, r.raw
FROM unnest($3::integer[], $4::text[], $5::text[], $6::jsonb[]) AS r (item_index, code, message, raw)
