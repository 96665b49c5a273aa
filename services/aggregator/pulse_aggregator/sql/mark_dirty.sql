INSERT INTO aggregator.dirty_campaigns AS d (campaign_id, org_id, seq, correlation_id, rebuild)
SELECT c.id, $1, nextval('aggregator.dirty_seq'), $3, c.rebuild
FROM unnest($2::uuid[], $4::boolean[]) AS c (id, rebuild)
ORDER BY c.id
ON CONFLICT (campaign_id) DO UPDATE
SET seq = excluded.seq, correlation_id = excluded.correlation_id, marked_at = now(),
    rebuild = d.rebuild OR excluded.rebuild
