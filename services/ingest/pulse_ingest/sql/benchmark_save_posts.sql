INSERT INTO ingest.benchmark_posts AS p
    (account_id, platform_post_id, posted_at, caption, views, likes, comments, shares, saves,
     observed_at)
SELECT $1, f.platform_post_id, f.posted_at, f.caption, f.views, f.likes, f.comments, f.shares,
       f.saves, $2
FROM unnest($3::text[], $4::timestamptz[], $5::text[], $6::bigint[], $7::bigint[],
            $8::bigint[], $9::bigint[], $10::bigint[])
         AS f (platform_post_id, posted_at, caption, views, likes, comments, shares, saves)
ON CONFLICT (account_id, platform_post_id) DO UPDATE
SET posted_at = excluded.posted_at, caption = excluded.caption, views = excluded.views,
    likes = excluded.likes, comments = excluded.comments, shares = excluded.shares,
    saves = excluded.saves, observed_at = excluded.observed_at
WHERE p.observed_at <= excluded.observed_at
