-- A batch of public answers in one statement, so in one transaction (view_log.py): every
-- answer's access-log row, and for the views among them each link's count raised by its views
-- in the batch and last_viewed_at moved to the latest. All of it or none of it is written.
-- The links are locked in id order first: two replicas writing batches that share links
-- never deadlock.
WITH batch AS (
    SELECT *
    FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::boolean[])
        WITH ORDINALITY AS b (link_id, at, address, user_agent, surface, outcome, counted, n)
),
views AS (
    SELECT link_id, count(*) AS views, max(at) AS latest
    FROM batch
    WHERE counted
    GROUP BY link_id
),
locked AS (
    SELECT l.id
    FROM share.links l
    JOIN views v ON v.link_id = l.id
    ORDER BY l.id
    FOR NO KEY UPDATE OF l
),
counted AS (
    UPDATE share.links l
    SET view_count = l.view_count + v.views,
        last_viewed_at = greatest(l.last_viewed_at, v.latest)
    FROM views v
    JOIN locked k ON k.id = v.link_id
    WHERE l.id = v.link_id
)
INSERT INTO share.access_log (link_id, at, address, user_agent, surface, outcome)
SELECT link_id, at, address, user_agent, surface, outcome
FROM batch
ORDER BY n
