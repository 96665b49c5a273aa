SELECT count(*) AS total,
       count(*) FILTER (WHERE received_at > $1) AS recent,
       max(received_at) AS last_at
FROM ingest.rejected_items
WHERE org_id IS NULL
