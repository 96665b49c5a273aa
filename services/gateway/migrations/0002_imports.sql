-- CSV imports of metric samples: one job row per upload, with progress a browser can poll.
-- The samples themselves belong to ingest; this table only records what the job did.

CREATE TABLE catalog.imports (
    id             uuid PRIMARY KEY,
    org_id         uuid        NOT NULL REFERENCES catalog.organizations (id),
    created_by     uuid,
    filename       text        NOT NULL DEFAULT '',
    status         text        NOT NULL DEFAULT 'queued'
                               CHECK (status IN ('queued', 'running', 'done', 'failed')),
    rows_total     integer     NOT NULL DEFAULT 0 CHECK (rows_total >= 0),
    rows_accepted  integer     NOT NULL DEFAULT 0 CHECK (rows_accepted >= 0),
    rows_duplicate integer     NOT NULL DEFAULT 0 CHECK (rows_duplicate >= 0),
    rows_rejected  integer     NOT NULL DEFAULT 0 CHECK (rows_rejected >= 0),
    -- The first 1000 row errors: [{"line", "field", "message"}].
    errors         jsonb       NOT NULL DEFAULT '[]',
    -- Why a failed job failed as a whole (a malformed file, ingest unavailable…).
    message        text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
CREATE INDEX imports_org ON catalog.imports (org_id, created_at DESC);

ALTER TABLE catalog.imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog.imports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON catalog.imports USING (org_id = catalog.current_org())
    WITH CHECK (org_id = catalog.current_org());
