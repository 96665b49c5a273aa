-- Each post's tags, joined by spaces (no tag holds one): asyncpg cannot send ragged arrays.
UPDATE aggregator.posts AS p
SET hashtags = string_to_array(f.hashtags, ' '),
    mentions = string_to_array(f.mentions, ' ')
FROM unnest($1::uuid[], $2::text[], $3::text[]) AS f (id, hashtags, mentions)
WHERE p.id = f.id
