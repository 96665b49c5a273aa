INSERT INTO aggregator.dirty_campaigns (campaign_id, org_id, seq, correlation_id)
SELECT c.id, $1, nextval('aggregator.dirty_seq'), $3
FROM unnest($2::uuid[]) AS c (id)
ORDER BY c.id
ON CONFLICT (campaign_id) DO UPDATE
SET seq = excluded.seq, correlation_id = excluded.correlation_id, marked_at = now()
