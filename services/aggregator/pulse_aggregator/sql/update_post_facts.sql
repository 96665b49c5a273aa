UPDATE aggregator.posts AS p
SET posted_at = COALESCE(p.posted_at, f.posted_at),
    caption   = COALESCE(f.caption, p.caption),
    thumb_url = COALESCE(f.thumb_url, p.thumb_url)
FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[])
         AS f (id, posted_at, caption, thumb_url)
WHERE p.id = f.id
