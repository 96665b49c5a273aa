-- The row comparison mirrors domain.newer exactly: observed_at, views (n/a as 0), then every
-- counter (n/a below 0), then measured over estimated.
INSERT INTO aggregator.post_latest AS l
    (post_id, observed_at, views, likes, comments, shares, saves, reach, estimated)
SELECT *
FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[],
            $6::bigint[], $7::bigint[], $8::bigint[], $9::boolean[])
ON CONFLICT (post_id) DO UPDATE
SET observed_at = excluded.observed_at, views = excluded.views, likes = excluded.likes,
    comments = excluded.comments, shares = excluded.shares, saves = excluded.saves,
    reach = excluded.reach, estimated = excluded.estimated
WHERE ROW (excluded.observed_at, COALESCE(excluded.views, 0), COALESCE(excluded.views, -1),
           COALESCE(excluded.likes, -1), COALESCE(excluded.comments, -1),
           COALESCE(excluded.shares, -1), COALESCE(excluded.saves, -1),
           COALESCE(excluded.reach, -1), NOT excluded.estimated)
    > ROW (l.observed_at, COALESCE(l.views, 0), COALESCE(l.views, -1), COALESCE(l.likes, -1),
           COALESCE(l.comments, -1), COALESCE(l.shares, -1), COALESCE(l.saves, -1),
           COALESCE(l.reach, -1), NOT l.estimated)
