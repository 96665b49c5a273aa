-- A batch's closes wait here for the next recompute of the campaign each post counts in, which
-- folds them into the posts' closes and the booking steps. One writer per campaign does that,
-- so batches take no row locks on each other's posts. Returns the campaigns to mark, and how
-- many samples each queued: a sample whose post has no row here is not queued (the caller
-- makes sure every post has one first, and checks the count).
WITH added AS (
    INSERT INTO aggregator.pending_closes
        (campaign_id, post_id, observed_at, views, likes, comments, shares, saves, reach,
         estimated)
    SELECT p.campaign_id, f.post_id, f.observed_at, f.views, f.likes, f.comments, f.shares,
           f.saves, f.reach, f.estimated
    FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[],
                $6::bigint[], $7::bigint[], $8::bigint[], $9::boolean[])
             AS f (post_id, observed_at, views, likes, comments, shares, saves, reach, estimated)
    JOIN aggregator.posts AS p ON p.id = f.post_id
    RETURNING campaign_id
)
SELECT campaign_id, count(*)::int AS queued FROM added GROUP BY campaign_id
