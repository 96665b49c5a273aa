-- A campaign's top tags of one kind over the posts published in [from, to] (either bound may
-- be null: open; posts of unknown date count only when both are).
SELECT tag, sum(posts)::bigint AS posts, sum(views)::bigint AS views,
       sum(engagement)::bigint AS engagement
FROM aggregator.campaign_tags
WHERE campaign_id = $1 AND org_id = $2 AND kind = $3
  AND (($4::date IS NULL AND $5::date IS NULL)
       OR (day IS NOT NULL AND day >= coalesce($4::date, day) AND day <= coalesce($5::date, day)))
GROUP BY tag
ORDER BY views DESC, posts DESC, tag COLLATE "C"
LIMIT $6
