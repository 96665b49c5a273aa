SELECT campaign_id, org_id, seq, correlation_id, rebuild
FROM aggregator.dirty_campaigns
WHERE campaign_id <> ALL ($1::uuid[])
ORDER BY seq
LIMIT $2
