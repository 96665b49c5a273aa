DELETE FROM aggregator.campaign_numbers WHERE campaign_id = $1
