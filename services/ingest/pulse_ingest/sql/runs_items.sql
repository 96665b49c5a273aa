SELECT kind, status, post_id, platform, url, item_index, code, message, http_status, tries, at
FROM ingest.run_items
WHERE run_id = $1
ORDER BY id
LIMIT $2
