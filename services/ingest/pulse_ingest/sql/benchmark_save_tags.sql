-- After benchmark_delete_tags in the same transaction: the account's tags as of this pull.
INSERT INTO ingest.benchmark_tags (account_id, kind, tag, posts, views, engagement)
SELECT $1, f.kind, f.tag, f.posts, f.views, f.engagement
FROM unnest($2::text[], $3::text[], $4::integer[], $5::bigint[], $6::bigint[])
         AS f (kind, tag, posts, views, engagement)
