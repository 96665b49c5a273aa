SELECT org_id, document FROM alerter.campaign_numbers WHERE campaign_id = $1
