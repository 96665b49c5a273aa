SELECT document::text AS document
FROM aggregator.campaign_numbers
WHERE org_id = $1 AND campaign_id = ANY ($2::uuid[])
