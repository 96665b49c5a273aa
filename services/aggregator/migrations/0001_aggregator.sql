-- aggregator owns reference copies of the catalog it needs, each post's latest sample and
-- daily closes, and every campaign's computed number document.

CREATE TABLE aggregator.campaigns (
    id                   uuid PRIMARY KEY,
    org_id               uuid        NOT NULL,
    client_id            uuid        NOT NULL,
    name                 text        NOT NULL,
    status               text        NOT NULL,
    start_date           date        NOT NULL,
    end_date             date        NOT NULL,
    budget_cents         bigint,
    currency             text        NOT NULL,
    committed_views      bigint,
    committed_engagement bigint,
    deleted_at           timestamptz,
    updated_at           timestamptz NOT NULL
);

CREATE TABLE aggregator.bookings (
    id                   uuid PRIMARY KEY,
    org_id               uuid        NOT NULL,
    campaign_id          uuid        NOT NULL,
    influencer_id        uuid,
    fee_cents            bigint      NOT NULL DEFAULT 0,
    committed_views      bigint,
    committed_engagement bigint,
    committed_posts      integer,
    min_engagement_rate  double precision,
    deleted_at           timestamptz,
    updated_at           timestamptz NOT NULL
);
CREATE INDEX bookings_campaign ON aggregator.bookings (campaign_id);

CREATE TABLE aggregator.posts (
    id            uuid PRIMARY KEY,
    org_id        uuid        NOT NULL,
    booking_id    uuid        NOT NULL,
    campaign_id   uuid        NOT NULL,
    platform      text        NOT NULL,
    url           text,
    posted_at     timestamptz,
    caption       text,
    thumb_url     text,
    registered_at timestamptz NOT NULL,
    removed_at    timestamptz
);
CREATE INDEX posts_campaign ON aggregator.posts (campaign_id);

-- The latest sample of each post within each UTC day (its close), merged with the same total
-- order as domain.newer, so arrival order never matters. A post's latest sample is simply
-- the close of its newest day, so no separate "latest" table is kept.
CREATE TABLE aggregator.post_daily (
    post_id     uuid        NOT NULL,
    day         date        NOT NULL,
    observed_at timestamptz NOT NULL,
    views       bigint,
    likes       bigint,
    comments    bigint,
    shares      bigint,
    saves       bigint,
    reach       bigint,
    estimated   boolean     NOT NULL,
    PRIMARY KEY (post_id, day)
);

-- Campaigns whose numbers must be recomputed. `seq` comes from one sequence, so a recompute
-- clears the mark only if nothing marked the campaign again while it was computing.
CREATE SEQUENCE aggregator.dirty_seq;
CREATE TABLE aggregator.dirty_campaigns (
    campaign_id uuid PRIMARY KEY,
    org_id      uuid        NOT NULL,
    seq            bigint      NOT NULL,
    -- The correlation id of the latest cause, carried on into kpi.updated for tracing.
    correlation_id text        NOT NULL,
    marked_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE aggregator.campaign_numbers (
    campaign_id uuid PRIMARY KEY,
    org_id      uuid        NOT NULL,
    document    jsonb       NOT NULL,
    as_of       timestamptz NOT NULL
);
CREATE INDEX campaign_numbers_org ON aggregator.campaign_numbers (org_id);
