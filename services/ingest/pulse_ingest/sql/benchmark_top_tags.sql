-- The top tags of one kind over the organization's accounts among `ids`, by views.
SELECT t.tag, sum(t.posts)::bigint AS posts, sum(t.views)::bigint AS views,
       sum(t.engagement)::bigint AS engagement
FROM ingest.benchmark_tags AS t
JOIN ingest.benchmark_accounts AS a ON a.id = t.account_id
WHERE a.org_id = $1 AND a.id = ANY ($2::uuid[]) AND a.removed_at IS NULL AND t.kind = $3
GROUP BY t.tag
ORDER BY views DESC, posts DESC, t.tag COLLATE "C"
LIMIT $4
