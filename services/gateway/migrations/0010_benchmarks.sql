-- Competitor benchmarks (docs/insights.md): sets of public accounts an organization compares
-- its creators with. The gateway owns the sets; ingest learns each account from
-- catalog.benchmark_account.* events, pulls it daily and keeps its rollup.

CREATE TABLE catalog.benchmark_sets (
    id         uuid PRIMARY KEY,
    org_id     uuid        NOT NULL REFERENCES catalog.organizations (id),
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX benchmark_sets_org ON catalog.benchmark_sets (org_id, created_at);

CREATE TABLE catalog.benchmark_accounts (
    id         uuid PRIMARY KEY,
    org_id     uuid        NOT NULL REFERENCES catalog.organizations (id),
    set_id     uuid        NOT NULL REFERENCES catalog.benchmark_sets (id) ON DELETE CASCADE,
    platform   text        NOT NULL CHECK (platform IN ('tiktok', 'instagram')),
    handle     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- One account once per set, however its handle is capitalised.
CREATE UNIQUE INDEX benchmark_accounts_once ON catalog.benchmark_accounts (set_id, platform, lower(handle));

ALTER TABLE catalog.benchmark_sets ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog.benchmark_sets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON catalog.benchmark_sets USING (org_id = catalog.current_org())
    WITH CHECK (org_id = catalog.current_org());
ALTER TABLE catalog.benchmark_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog.benchmark_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON catalog.benchmark_accounts USING (org_id = catalog.current_org())
    WITH CHECK (org_id = catalog.current_org());
