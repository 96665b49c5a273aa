-- The gateway's read model of the numbers: each campaign's latest kpi.updated document, so a
-- staff read is one local lookup instead of a call to the aggregator (design/README.md).
-- Derived state: it can always be rebuilt from kpi.updated or the aggregator's reads.
CREATE TABLE catalog.campaign_numbers (
    campaign_id uuid PRIMARY KEY,
    org_id      uuid        NOT NULL,
    -- When the aggregator computed the document; a replayed or older one never replaces it.
    as_of       timestamptz NOT NULL,
    document    jsonb       NOT NULL
);

ALTER TABLE catalog.campaign_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog.campaign_numbers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON catalog.campaign_numbers USING (org_id = catalog.current_org())
    WITH CHECK (org_id = catalog.current_org());
