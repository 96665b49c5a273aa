INSERT INTO ingest.samples
    (post_key, observed_at, views, likes, comments, shares, saves, reach, source, estimated)
SELECT *
FROM unnest($1::integer[], $2::timestamptz[], $3::bigint[], $4::integer[], $5::integer[],
            $6::integer[], $7::integer[], $8::integer[], $9::smallint[], $10::boolean[])
ON CONFLICT (post_key, observed_at) DO NOTHING
RETURNING post_key, observed_at
