SELECT DISTINCT ON (debounce_key) id, debounce_key, status, severity, resolved_at
FROM alerter.alerts
WHERE debounce_key = ANY ($1::text[])
ORDER BY debounce_key, raised_at DESC
