-- Competitor benchmarks (docs/insights.md): ingest's copy of the accounts the gateway's sets
-- hold, what their daily pulls found, and each account's rollup, updated by every pull.

CREATE TABLE ingest.benchmark_accounts (
    id              uuid PRIMARY KEY,
    org_id          uuid        NOT NULL,
    set_id          uuid        NOT NULL,
    platform        text        NOT NULL,
    handle          text        NOT NULL,
    removed_at      timestamptz,
    updated_at      timestamptz NOT NULL,
    -- pending (never pulled), ok, unknown_handle, private, failed (the provider's trouble).
    status          text        NOT NULL DEFAULT 'pending',
    status_detail   text,
    last_attempt_at timestamptz,
    last_pulled_at  timestamptz,
    followers       bigint
);
CREATE INDEX benchmark_accounts_due ON ingest.benchmark_accounts (last_attempt_at NULLS FIRST)
    WHERE removed_at IS NULL;

-- The latest counters of each recent post a pull returned (replaced by newer pulls).
CREATE TABLE ingest.benchmark_posts (
    account_id       uuid        NOT NULL REFERENCES ingest.benchmark_accounts (id) ON DELETE CASCADE,
    platform_post_id text        NOT NULL,
    posted_at        timestamptz NOT NULL,
    caption          text,
    views            bigint,
    likes            bigint,
    comments         bigint,
    shares           bigint,
    saves            bigint,
    observed_at      timestamptz NOT NULL,
    PRIMARY KEY (account_id, platform_post_id)
);

-- One row per account and UTC day of a successful pull: the baseline of the 30-day growths.
CREATE TABLE ingest.benchmark_days (
    account_id   uuid   NOT NULL REFERENCES ingest.benchmark_accounts (id) ON DELETE CASCADE,
    day          date   NOT NULL,
    followers    bigint,
    median_views double precision,
    PRIMARY KEY (account_id, day)
);

CREATE TABLE ingest.benchmark_rollups (
    account_id             uuid PRIMARY KEY REFERENCES ingest.benchmark_accounts (id) ON DELETE CASCADE,
    as_of                  timestamptz NOT NULL,
    posts_30d              integer     NOT NULL,
    posts_per_week         double precision NOT NULL,
    median_views           double precision,
    median_engagement_rate double precision,
    follower_growth_pct    double precision,
    view_growth_pct        double precision,
    growth_days            integer
);

-- Hashtags and mentions (docs/insights.md) of each account's posts in its 30-day window,
-- replaced by every pull of the account: a set's top tags sum these rows, never captions.
CREATE TABLE ingest.benchmark_tags (
    account_id uuid    NOT NULL REFERENCES ingest.benchmark_accounts (id) ON DELETE CASCADE,
    kind       text    NOT NULL CHECK (kind IN ('hashtag', 'mention')),
    tag        text    NOT NULL,
    posts      integer NOT NULL,
    views      bigint  NOT NULL,
    engagement bigint  NOT NULL,
    PRIMARY KEY (account_id, kind, tag)
);
