INSERT INTO aggregator.booking_steps AS s (campaign_id, booking_id, day, views, engagement, live)
SELECT *
FROM unnest($1::uuid[], $2::uuid[], $3::date[], $4::bigint[], $5::bigint[], $6::integer[])
ON CONFLICT (campaign_id, booking_id, day) DO UPDATE
SET views = s.views + excluded.views, engagement = s.engagement + excluded.engagement,
    live = s.live + excluded.live
