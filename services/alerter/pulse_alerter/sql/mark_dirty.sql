INSERT INTO alerter.dirty_campaigns (campaign_id, seq, correlation_id)
SELECT c.id, nextval('alerter.dirty_seq'), $2
FROM unnest($1::uuid[]) AS c (id)
ORDER BY c.id
ON CONFLICT (campaign_id) DO UPDATE
SET seq = excluded.seq, correlation_id = excluded.correlation_id, marked_at = now()
