-- The client's PDF as a report job: one per link and version of the campaign's projection, so
-- every request for the same numbers finds the same job (and its file) instead of rendering
-- again. The reporter renders it and keeps the file; share keeps the state it reported.
CREATE TABLE share.report_jobs (
    id                 uuid PRIMARY KEY,
    link_id            uuid        NOT NULL REFERENCES share.links (id) ON DELETE CASCADE,
    org_id             uuid        NOT NULL,
    projection_version timestamptz NOT NULL,
    attempt            integer     NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    status             text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'failed')),
    progress           integer     NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    error              text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (link_id, projection_version)
);
