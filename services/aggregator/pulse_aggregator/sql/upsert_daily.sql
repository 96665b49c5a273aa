-- The row comparison mirrors domain.newer exactly: observed_at, views (n/a as 0), then every
-- counter (n/a below 0), then measured over estimated.
INSERT INTO aggregator.post_daily AS d
    (post_id, day, observed_at, views, likes, comments, shares, saves, reach, estimated)
SELECT *
FROM unnest($1::uuid[], $2::date[], $3::timestamptz[], $4::bigint[], $5::bigint[],
            $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::boolean[])
ON CONFLICT (post_id, day) DO UPDATE
SET observed_at = excluded.observed_at, views = excluded.views, likes = excluded.likes,
    comments = excluded.comments, shares = excluded.shares, saves = excluded.saves,
    reach = excluded.reach, estimated = excluded.estimated
WHERE ROW (excluded.observed_at, COALESCE(excluded.views, 0), COALESCE(excluded.views, -1),
           COALESCE(excluded.likes, -1), COALESCE(excluded.comments, -1),
           COALESCE(excluded.shares, -1), COALESCE(excluded.saves, -1),
           COALESCE(excluded.reach, -1), NOT excluded.estimated)
    > ROW (d.observed_at, COALESCE(d.views, 0), COALESCE(d.views, -1), COALESCE(d.likes, -1),
           COALESCE(d.comments, -1), COALESCE(d.shares, -1), COALESCE(d.saves, -1),
           COALESCE(d.reach, -1), NOT d.estimated)
