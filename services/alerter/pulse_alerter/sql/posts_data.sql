-- The newest sample time of each post of a batch (samples may arrive out of order); one row
-- per post, in id order so concurrent batches never wait on each other in a cycle.
INSERT INTO alerter.posts AS p (id, org_id, campaign_id, booking_id, platform, last_data_at)
SELECT f.id, $1, f.campaign_id, f.booking_id, f.platform, f.last_data_at
FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::timestamptz[])
         AS f (id, campaign_id, booking_id, platform, last_data_at)
ORDER BY f.id
ON CONFLICT (id) DO UPDATE
SET last_data_at = greatest(p.last_data_at, excluded.last_data_at),
    platform = coalesce(p.platform, excluded.platform)
