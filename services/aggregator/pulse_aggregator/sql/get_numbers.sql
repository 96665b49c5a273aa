SELECT document::text AS document FROM aggregator.campaign_numbers WHERE campaign_id = $1 AND org_id = $2
