-- A sample may arrive before its post's catalog event: know the post from the sample, and let
-- the registration fill in the rest when it comes.
INSERT INTO aggregator.posts (id, org_id, booking_id, campaign_id, platform, registered_at)
SELECT f.id, $1, f.booking_id, f.campaign_id, f.platform, '-infinity'
FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[]) AS f (id, booking_id, campaign_id, platform)
ON CONFLICT (id) DO NOTHING
