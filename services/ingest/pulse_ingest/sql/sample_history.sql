SELECT s.observed_at, s.views, s.likes, s.comments, s.shares, s.saves, s.reach, s.source,
       s.estimated
FROM ingest.samples AS s
JOIN ingest.tracked_posts AS p ON p.key = s.post_key
WHERE p.id = $1
  AND p.org_id = $2
  AND s.observed_at > $3
ORDER BY s.observed_at
LIMIT $4
