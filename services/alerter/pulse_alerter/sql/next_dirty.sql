SELECT campaign_id, seq, correlation_id
FROM alerter.dirty_campaigns
WHERE campaign_id <> ALL ($1::uuid[])
ORDER BY seq
LIMIT $2
