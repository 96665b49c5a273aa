-- reporter owns report jobs as it renders them, and the rendered files for their retention
-- period. A job's content arrives in its report.requested message; nothing here reads or
-- copies another service's tables.

-- One row per job: claimed with SELECT … FOR UPDATE SKIP LOCKED for the whole render, so two
-- replicas never render the same job, and a replica killed mid-render releases it with its
-- connection (the message comes back unacknowledged and the next claim finishes it).
CREATE TABLE reporter.jobs (
    job_id       uuid PRIMARY KEY,
    org_id       uuid        NOT NULL,
    requested_by text        NOT NULL CHECK (requested_by IN ('gateway', 'share', 'schedule')),
    attempt      integer     NOT NULL CHECK (attempt >= 1),
    status       text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'failed')),
    format       text        NOT NULL CHECK (format IN ('pdf', 'csv', 'xlsx')),
    title        text        NOT NULL,
    error        text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX jobs_org ON reporter.jobs (org_id, received_at DESC);

-- Every render that began, committed before the render itself: a render interrupted by a
-- crash stays here, which is how tests (and ops) tell a redelivery from a double render.
CREATE TABLE reporter.render_starts (
    id         bigserial PRIMARY KEY,
    job_id     uuid        NOT NULL REFERENCES reporter.jobs (job_id) ON DELETE CASCADE,
    attempt    integer     NOT NULL,
    replica    text        NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX render_starts_job ON reporter.render_starts (job_id);

-- The rendered file, kept until expires_at (the retention sweep deletes it). In PostgreSQL
-- rather than a directory: every replica and every downloader sees it without a shared
-- volume, it is backed up and restored with the job that made it, and a file is written in
-- the same transaction that marks its job done, so a crash never leaves one without the other.
CREATE TABLE reporter.files (
    job_id      uuid PRIMARY KEY REFERENCES reporter.jobs (job_id) ON DELETE CASCADE,
    org_id      uuid        NOT NULL,
    filename    text        NOT NULL,
    media_type  text        NOT NULL,
    content     bytea       NOT NULL,
    size_bytes  integer     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX files_expiry ON reporter.files (expires_at);
-- Files are written once and read whole; compression would only cost CPU on PDFs/XLSX.
ALTER TABLE reporter.files ALTER COLUMN content SET STORAGE EXTERNAL;
