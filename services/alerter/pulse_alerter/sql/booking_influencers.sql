SELECT id, influencer_id FROM alerter.bookings WHERE campaign_id = $1
