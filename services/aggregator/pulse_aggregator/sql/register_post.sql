-- A registration that moves a post (or corrects the booking its first samples named) returns
-- where the post was, so both campaigns rebuild their steps.
INSERT INTO aggregator.posts AS p
    (id, org_id, booking_id, campaign_id, platform, url, registered_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE
SET booking_id = excluded.booking_id, campaign_id = excluded.campaign_id,
    platform = excluded.platform, url = excluded.url, registered_at = excluded.registered_at
WHERE p.registered_at < excluded.registered_at
RETURNING (SELECT campaign_id FROM aggregator.posts WHERE id = $1) AS previous_campaign_id,
          (SELECT booking_id FROM aggregator.posts WHERE id = $1) AS previous_booking_id
