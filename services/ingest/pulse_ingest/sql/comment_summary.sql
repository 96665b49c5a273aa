-- A post of the organization with its comment counts and last comments fetch; no row when the
-- post is not the organization's.
SELECT p.id AS post_id, p.platform, p.comments_checked_at,
       count(c.post_id)                                AS analysed,
       count(c.post_id) FILTER (WHERE c.label = 'positive') AS positive,
       count(c.post_id) FILTER (WHERE c.label = 'neutral')  AS neutral,
       count(c.post_id) FILTER (WHERE c.label = 'negative') AS negative,
       (SELECT row_to_json(r) FROM (
            SELECT status, error_code, error, received, new_comments, started_at
            FROM ingest.comment_pulls
            WHERE post_id = p.id
            ORDER BY started_at DESC, id DESC
            LIMIT 1) AS r) AS last_pull
FROM ingest.tracked_posts AS p
LEFT JOIN ingest.comments AS c ON c.post_id = p.id
WHERE p.org_id = $1
  AND p.id = $2
GROUP BY p.id
