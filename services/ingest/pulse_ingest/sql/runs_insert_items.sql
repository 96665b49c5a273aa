INSERT INTO ingest.run_items
    (run_id, kind, status, post_id, platform, url, item_index, code, message, http_status, tries, at)
SELECT $1, $2, r.status, r.post_id, r.platform, r.url, r.item_index, r.code, r.message,
       r.http_status, r.tries, $3
FROM unnest($4::text[], $5::uuid[], $6::text[], $7::text[], $8::integer[], $9::text[],
            $10::text[], $11::smallint[], $12::integer[])
         AS r (status, post_id, platform, url, item_index, code, message, http_status, tries)
