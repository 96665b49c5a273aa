SELECT count(*)                                      AS analysed,
       count(*) FILTER (WHERE label = 'positive') AS positive,
       count(*) FILTER (WHERE label = 'neutral')  AS neutral,
       count(*) FILTER (WHERE label = 'negative') AS negative
FROM ingest.comments
WHERE post_id = $1
