-- Repeats of open alerts at equal or lower severity: only last_seen_at and the message move.
UPDATE alerter.alerts AS a
SET last_seen_at = $2, message = f.message
FROM unnest($1::uuid[], $3::text[]) AS f (id, message)
WHERE a.id = f.id AND a.status = 'open'
