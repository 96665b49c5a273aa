-- Report jobs the organization asked for (custom reports and the campaign PDF button). The
-- reporter renders them and owns the files; the gateway keeps what its staff see: the request,
-- and the state each report.progressed brought (pending → running → done | failed).

CREATE TABLE catalog.report_jobs (
    id            uuid PRIMARY KEY,
    org_id        uuid        NOT NULL REFERENCES catalog.organizations (id),
    requested_by  uuid,
    campaign_ids  uuid[]      NOT NULL CHECK (cardinality(campaign_ids) BETWEEN 1 AND 10),
    period_from   date,
    period_to     date,
    sections      text[]      NOT NULL,
    format        text        NOT NULL CHECK (format IN ('pdf', 'csv', 'xlsx')),
    title         text        NOT NULL,
    attempt       integer     NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    status        text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'failed')),
    progress      integer     NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    error         text,
    filename      text,
    media_type    text,
    size_bytes    integer,
    expires_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_jobs_org ON catalog.report_jobs (org_id, created_at DESC);

ALTER TABLE catalog.report_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog.report_jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON catalog.report_jobs USING (org_id = catalog.current_org())
    WITH CHECK (org_id = catalog.current_org());
