-- $2: the as_of of the document the process holds (repository.HeldNumbers), or NULL. The
-- document is left out when the row is that one, so it is neither sent nor decompressed.
SELECT org_id, CASE WHEN as_of = $2 THEN NULL ELSE document::text END AS document
FROM alerter.campaign_numbers
WHERE campaign_id = $1
