DELETE FROM aggregator.booking_steps WHERE campaign_id = $1
