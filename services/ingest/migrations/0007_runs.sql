-- Runs: one execution of an agency's n8n workflow (opened and completed by n8n through
-- /api/ingest/runs), or one batch of Pulse's own provider pulls (source 'scheduler'). Operators
-- see in one list what ran, what it delivered and what failed, per post.
CREATE TABLE ingest.runs (
    id              uuid PRIMARY KEY,
    org_id          uuid        NOT NULL,
    source          text        NOT NULL CHECK (source IN ('n8n', 'scheduler')),
    status          text        NOT NULL
        CHECK (status IN ('pending', 'running', 'success', 'failed', 'partial')),
    reason          text,       -- why a run failed without outcomes saying so: timed_out, no_posts
    name            text,       -- the n8n workflow's name; for scheduler runs why it pulled
    execution_id    text,       -- n8n's execution id
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    posts_ok        integer     NOT NULL DEFAULT 0,
    posts_failed    integer     NOT NULL DEFAULT 0,
    accepted        integer     NOT NULL DEFAULT 0,
    duplicates      integer     NOT NULL DEFAULT 0,
    rejected        integer     NOT NULL DEFAULT 0,
    provider_errors integer     NOT NULL DEFAULT 0
);
CREATE INDEX runs_org ON ingest.runs (org_id, started_at DESC);
-- What the time-out sweep scans: only runs still open.
CREATE INDEX runs_open ON ingest.runs (started_at) WHERE status IN ('pending', 'running');

-- A run's items: each post's outcome as the workflow reported it ('ok', 'failed'; 'rejected'
-- when it named no post of the organization), and each item ingest refused ('rejected', with the
-- item's index in its request or message).
CREATE TABLE ingest.run_items (
    id          bigserial PRIMARY KEY,
    run_id      uuid        NOT NULL REFERENCES ingest.runs (id) ON DELETE CASCADE,
    kind        text        NOT NULL CHECK (kind IN ('outcome', 'item')),
    status      text        NOT NULL CHECK (status IN ('ok', 'failed', 'rejected')),
    post_id     uuid,
    platform    text,
    url         text,
    item_index  integer,
    code        text,
    message     text,
    http_status smallint,
    tries       integer,
    at          timestamptz NOT NULL
);
CREATE INDEX run_items_run ON ingest.run_items (run_id, id);

-- Items for a post Pulse does not know yet are held: registered within 24 hours (held_until),
-- the post gets them applied; an applied or replayed item says when (resolved_at). A post
-- registered through the gateway and sampled a second later can otherwise reach ingest before
-- its registration event does.
ALTER TABLE ingest.rejected_items
    ADD COLUMN held_until  timestamptz,
    ADD COLUMN resolved_at timestamptz;
CREATE INDEX rejected_items_held ON ingest.rejected_items (org_id, held_until)
    WHERE held_until IS NOT NULL AND resolved_at IS NULL;
