-- New comments are scored once; a comment seen again only refreshes its like count.
INSERT INTO ingest.comments
    (post_id, platform_comment_id, text, author_handle, commented_at, like_count, sentiment,
     label, fetched_at)
SELECT $1, c.platform_comment_id, c.text, c.author_handle, c.commented_at, c.like_count,
       c.sentiment, c.label, $2
FROM unnest($3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::bigint[], $8::real[],
            $9::text[])
         AS c (platform_comment_id, text, author_handle, commented_at, like_count, sentiment, label)
ON CONFLICT (post_id, platform_comment_id) DO UPDATE
    SET like_count = COALESCE(EXCLUDED.like_count, ingest.comments.like_count)
RETURNING (xmax = 0) AS inserted
