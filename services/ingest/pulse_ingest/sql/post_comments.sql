-- The post's latest comments (the caller checked the post is the organization's).
SELECT platform_comment_id, text, author_handle, commented_at, like_count, sentiment, label,
       fetched_at
FROM ingest.comments
WHERE post_id = $1
ORDER BY commented_at DESC NULLS LAST, platform_comment_id
LIMIT $2
