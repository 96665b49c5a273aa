-- Pulling from ScrapeCreators: per-post pull state, every provider call as a pull run, the
-- organization's provider state (paused when out of credits), campaign end dates (the refresh
-- policy stops 7 days after them), and webhook signing secrets (ingest alone holds them).

-- Per-post pull state lives on the tracked post: the scheduler reads it with the post anyway.
ALTER TABLE ingest.tracked_posts
    ADD COLUMN queued_at            timestamptz, -- a fetch command is pending for this post
    ADD COLUMN last_attempt_at      timestamptz,
    ADD COLUMN last_success_at      timestamptz,
    ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error_code      text,
    ADD COLUMN last_error           text,
    ADD COLUMN deleted_seen_at      timestamptz, -- first "not found" of the current streak
    ADD COLUMN deleted_at           timestamptz; -- still not found 7 days later: never pulled again

-- What the scheduler scans: only posts that can ever be pulled.
CREATE INDEX tracked_posts_pullable ON ingest.tracked_posts (last_success_at NULLS FIRST)
    WHERE removed_at IS NULL AND deleted_at IS NULL AND platform <> 'other';
CREATE INDEX tracked_posts_campaign ON ingest.tracked_posts (org_id, campaign_id);

-- Every provider call (all its attempts), ok, failed or skipped.
CREATE TABLE ingest.pull_runs (
    id          bigserial PRIMARY KEY,
    org_id      uuid        NOT NULL,
    post_id     uuid        NOT NULL,
    command_id  uuid        NOT NULL, -- the FetchPosts event that asked for it (one batch)
    priority    text        NOT NULL CHECK (priority IN ('high', 'low')),
    reason      text        NOT NULL,
    platform    text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('ok', 'failed', 'skipped')),
    http_status smallint,
    latency_ms  integer     NOT NULL,
    credits     integer     NOT NULL,
    attempts    integer     NOT NULL,
    error_code  text,
    error       text,
    started_at  timestamptz NOT NULL
);
CREATE INDEX pull_runs_post ON ingest.pull_runs (post_id, started_at DESC);
CREATE INDEX pull_runs_org ON ingest.pull_runs (org_id, started_at DESC);

-- Out of credits pauses the organization's pulls until an operator resumes them or a later
-- balance check finds credits again.
CREATE TABLE ingest.provider_state (
    org_id        uuid PRIMARY KEY,
    paused_at     timestamptz,
    paused_reason text,
    resumed_at    timestamptz,
    updated_at    timestamptz NOT NULL
);

-- The part of the gateway's campaigns ingest needs: when to stop refreshing their posts.
CREATE TABLE ingest.campaigns (
    id         uuid PRIMARY KEY,
    org_id     uuid        NOT NULL,
    status     text,
    end_date   date,
    deleted_at timestamptz,
    updated_at timestamptz NOT NULL
);

-- Webhook signing. Secrets are sealed (authenticated encryption, key from the service's
-- settings) and never leave ingest except once, in the answer that creates them.
CREATE TABLE ingest.signing_settings (
    org_id           uuid PRIMARY KEY,
    signing_required boolean     NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL
);

CREATE TABLE ingest.signing_secrets (
    id         uuid PRIMARY KEY,
    org_id     uuid        NOT NULL,
    sealed     bytea       NOT NULL,
    hint       text        NOT NULL, -- the last 4 characters, to tell secrets apart
    created_at timestamptz NOT NULL,
    retired_at timestamptz
);
CREATE INDEX signing_secrets_active ON ingest.signing_secrets (org_id, created_at)
    WHERE retired_at IS NULL;
