UPDATE alerter.posts AS p
SET posted_at = f.posted_at
FROM unnest($1::uuid[], $2::timestamptz[]) AS f (id, posted_at)
WHERE p.id = f.id
