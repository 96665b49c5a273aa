-- Newer wins: a replayed, duplicated or late kpi.updated never replaces a later document.
-- $4 is the envelope's JSON as it came: its data is the document, taken out here as it is.
INSERT INTO catalog.campaign_numbers AS n (campaign_id, org_id, as_of, document)
VALUES ($1, $2, $3, ($4::text::json) -> 'data')
ON CONFLICT (campaign_id) DO UPDATE
SET as_of = excluded.as_of, document = excluded.document
WHERE n.as_of < excluded.as_of AND n.org_id = excluded.org_id
RETURNING as_of
