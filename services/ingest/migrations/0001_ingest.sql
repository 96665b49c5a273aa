-- ingest owns tracked posts and their append-only samples, its copy of organizations and
-- ingest tokens, and every rejected item kept for inspection and replay.

CREATE TABLE ingest.organizations (
    id         uuid PRIMARY KEY,
    name       text        NOT NULL,
    is_test    boolean     NOT NULL DEFAULT false,
    settings   jsonb       NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL
);

CREATE TABLE ingest.api_tokens (
    id           uuid PRIMARY KEY,
    org_id       uuid        NOT NULL,
    name         text        NOT NULL DEFAULT '',
    token_sha256 bytea       NOT NULL UNIQUE,
    scopes       text[]      NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE ingest.tracked_posts (
    -- A compact surrogate key keeps each stored sample small (design/performance.md P7).
    key              integer GENERATED ALWAYS AS IDENTITY UNIQUE,
    id               uuid PRIMARY KEY,
    org_id           uuid        NOT NULL,
    booking_id       uuid        NOT NULL,
    campaign_id      uuid        NOT NULL,
    platform         text        NOT NULL,
    url              text        NOT NULL,
    platform_post_id text,
    registered_at    timestamptz NOT NULL,
    removed_at       timestamptz,
    posted_at        timestamptz,
    caption          text,
    thumb_url        text,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX tracked_posts_platform_id ON ingest.tracked_posts (org_id, platform_post_id);
CREATE INDEX tracked_posts_url ON ingest.tracked_posts (org_id, url);

-- Append-only: never updated or deleted. Column order packs the row without padding.
CREATE TABLE ingest.samples (
    observed_at timestamptz NOT NULL,
    views       bigint,
    likes       bigint,
    reach       bigint,
    post_key    integer     NOT NULL,
    comments    integer,
    shares      integer,
    saves       integer,
    source      smallint    NOT NULL,
    estimated   boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (post_key, observed_at)
);

CREATE TABLE ingest.rejected_items (
    id          bigserial PRIMARY KEY,
    org_id      uuid,
    received_at timestamptz NOT NULL DEFAULT now(),
    channel     text        NOT NULL,
    item_index  integer,
    code        text        NOT NULL,
    message     text        NOT NULL,
    raw         jsonb
);
CREATE INDEX rejected_items_org ON ingest.rejected_items (org_id, received_at DESC);
