-- The document is the data of the kpi.updated envelope serialized once for the outbox.
INSERT INTO aggregator.campaign_numbers (campaign_id, org_id, document, as_of)
VALUES ($1, $2, ($3::text::json) -> 'data', $4)
ON CONFLICT (campaign_id) DO UPDATE
SET document = excluded.document, as_of = excluded.as_of, org_id = excluded.org_id
