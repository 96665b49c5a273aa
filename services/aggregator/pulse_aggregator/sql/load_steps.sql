SELECT booking_id, day, views, engagement, live
FROM aggregator.booking_steps
WHERE campaign_id = $1
