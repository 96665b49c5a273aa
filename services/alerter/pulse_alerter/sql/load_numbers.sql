SELECT org_id, document::text AS document FROM alerter.campaign_numbers WHERE campaign_id = $1
