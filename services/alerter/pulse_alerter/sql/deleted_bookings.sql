SELECT id FROM alerter.deleted_bookings WHERE campaign_id = $1
