SELECT numbers FROM share.campaign_numbers WHERE campaign_id = $1 AND org_id = $2
