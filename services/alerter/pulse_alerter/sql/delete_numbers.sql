DELETE FROM alerter.campaign_numbers WHERE campaign_id = $1
