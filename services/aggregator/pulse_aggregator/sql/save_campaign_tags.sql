-- The campaign's tag rollup replaced by the recompute's rows, touching only rows that changed
-- (most recomputes move a few posts' figures, not every tag's).
WITH fresh AS (
    SELECT *
    FROM unnest($3::text[], $4::text[], $5::date[], $6::integer[], $7::bigint[], $8::bigint[])
        AS f (kind, tag, day, posts, views, engagement)
), gone AS (
    DELETE FROM aggregator.campaign_tags AS c
    WHERE c.campaign_id = $1
      AND NOT EXISTS (SELECT 1 FROM fresh AS f
                      WHERE f.kind = c.kind AND f.tag = c.tag AND f.day IS NOT DISTINCT FROM c.day)
)
INSERT INTO aggregator.campaign_tags AS c
    (campaign_id, org_id, kind, tag, day, posts, views, engagement)
SELECT $1, $2, f.kind, f.tag, f.day, f.posts, f.views, f.engagement
FROM fresh AS f
ON CONFLICT ON CONSTRAINT campaign_tags_key DO UPDATE
SET posts = excluded.posts, views = excluded.views, engagement = excluded.engagement
WHERE (c.posts, c.views, c.engagement)
      IS DISTINCT FROM (excluded.posts, excluded.views, excluded.engagement)
