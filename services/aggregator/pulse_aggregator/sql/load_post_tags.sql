-- The campaign's posts whose caption holds a tag: their tags, and the caption itself only where
-- its tags were never read (captions stored before migration 0004).
SELECT id, hashtags, mentions, CASE WHEN hashtags IS NULL THEN caption END AS caption
FROM aggregator.posts
WHERE campaign_id = $1 AND caption IS NOT NULL
  AND (hashtags IS NULL OR cardinality(hashtags) > 0 OR cardinality(mentions) > 0)
