-- Earned media value (docs/insights.md) is money: a link shows it only when its creator opted
-- in, off by default, so every existing link keeps showing exactly what it showed.
ALTER TABLE share.links ADD COLUMN show_emv boolean NOT NULL DEFAULT false;

-- Each organization's EMV rates (its own overrides; the defaults are in pulse_contracts.emv),
-- from catalog.organization.upserted. Rates only: no fee, spend or budget ever comes here.
CREATE TABLE share.org_emv_rates (
    org_id     uuid PRIMARY KEY,
    rates      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
