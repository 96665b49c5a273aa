-- posted_at is set once; caption and thumbnail follow the provider (CDN thumbnails expire).
UPDATE ingest.tracked_posts AS t
SET posted_at  = COALESCE(t.posted_at, f.posted_at),
    caption    = COALESCE(f.caption, t.caption),
    thumb_url  = COALESCE(f.thumb_url, t.thumb_url),
    updated_at = now()
FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[])
         AS f (id, posted_at, caption, thumb_url)
WHERE t.id = f.id
  AND ((t.posted_at IS NULL AND f.posted_at IS NOT NULL)
    OR (f.caption IS NOT NULL AND f.caption IS DISTINCT FROM t.caption)
    OR (f.thumb_url IS NOT NULL AND f.thumb_url IS DISTINCT FROM t.thumb_url))
RETURNING t.id, t.posted_at, t.caption, t.thumb_url
