-- Keep the newest document: kpi.updated may arrive out of order or twice.
INSERT INTO alerter.campaign_numbers AS n (campaign_id, org_id, status, document, as_of)
VALUES ($1, $2, $3, $4::text::json, $5)
ON CONFLICT (campaign_id) DO UPDATE
SET document = excluded.document, as_of = excluded.as_of, status = excluded.status
WHERE n.as_of < excluded.as_of
