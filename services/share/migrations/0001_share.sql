-- share owns the client's read-only links, their access log, and the REDACTED projection of
-- each campaign that those links show. Nothing here holds a fee, a budget, a spend, a cost
-- (cpm, cpe), a per-booking commitment or a note: what the service does not hold, it cannot
-- leak (design/api.md, "Share"; design/security.md, "Share links").

-- A link is known by the SHA-256 of its token only; the token itself is shown once.
CREATE TABLE share.links (
    id             uuid PRIMARY KEY,
    org_id         uuid        NOT NULL,
    campaign_id    uuid        NOT NULL,
    token_sha256   bytea       NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    created_by     uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    password_hash  text,
    revoked_at     timestamptz,
    view_count     bigint      NOT NULL DEFAULT 0,
    last_viewed_at timestamptz
);
CREATE INDEX links_campaign ON share.links (org_id, campaign_id, created_at DESC);

-- Who opened a link: the address truncated to its network (/24, /48), never the full one.
CREATE TABLE share.access_log (
    id         bigserial PRIMARY KEY,
    link_id    uuid        NOT NULL REFERENCES share.links (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    address    text        NOT NULL,
    user_agent text        NOT NULL DEFAULT '',
    surface    text        NOT NULL CHECK (surface IN ('page', 'json', 'unlock')),
    outcome    text        NOT NULL
        CHECK (outcome IN ('viewed', 'locked', 'unlocked', 'wrong_password'))
);
CREATE INDEX access_log_link ON share.access_log (link_id, at DESC);

-- Reference copies of the catalog, reduced to what a client may see. Each keeps the entity's
-- updated_at so a late duplicate never overwrites a newer copy.
CREATE TABLE share.clients (
    id          uuid PRIMARY KEY,
    org_id      uuid        NOT NULL,
    name        text        NOT NULL,
    brand_color text,
    logo_url    text,
    updated_at  timestamptz NOT NULL
);

-- No budget and no currency: nothing the client sees is money. A deleted campaign stays as a
-- tombstone (name and dates may be unknown when the deletion arrives first).
CREATE TABLE share.campaign_refs (
    id         uuid PRIMARY KEY,
    org_id     uuid        NOT NULL,
    client_id  uuid,
    name       text,
    status     text,
    start_date date,
    end_date   date,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz
);
CREATE INDEX campaign_refs_client ON share.campaign_refs (client_id);

-- Handles reduced to their platforms: the client sees which networks, not the accounts' data.
CREATE TABLE share.influencers (
    id           uuid PRIMARY KEY,
    org_id       uuid        NOT NULL,
    display_name text        NOT NULL,
    avatar_url   text,
    tier         text,
    platforms    text[]      NOT NULL DEFAULT '{}',
    updated_at   timestamptz NOT NULL
);

-- Which creator a booking is: no fee, no commitment, no contract terms.
CREATE TABLE share.bookings (
    id            uuid PRIMARY KEY,
    org_id        uuid        NOT NULL,
    campaign_id   uuid        NOT NULL,
    influencer_id uuid,  -- null only on a tombstone whose deletion arrived first
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz
);
CREATE INDEX bookings_campaign ON share.bookings (campaign_id);
CREATE INDEX bookings_influencer ON share.bookings (influencer_id);

-- The allow-listed part of the latest kpi.updated document (domain.ShareNumbers): campaign
-- KPIs, daily series, platform split, per-booking actuals and per-post counters. Booking and
-- influencer ids are kept only to join with the copies above; they never reach a payload.
CREATE TABLE share.campaign_numbers (
    campaign_id uuid PRIMARY KEY,
    org_id      uuid        NOT NULL,
    as_of       timestamptz NOT NULL,
    numbers     jsonb       NOT NULL
);

-- The redacted projection a link shows (domain.SharePayload), rebuilt whenever the numbers or
-- a reference copy change.
CREATE TABLE share.campaigns (
    campaign_id          uuid PRIMARY KEY,
    org_id               uuid        NOT NULL,
    name                 text        NOT NULL,
    status               text,
    start_date           date,
    end_date             date,
    client_name          text,
    client_brand_color   text,
    client_logo_url      text,
    committed_views      bigint,
    committed_engagement bigint,
    committed_posts      integer,
    actual_views         bigint      NOT NULL,
    actual_engagement    bigint      NOT NULL,
    actual_posts         integer     NOT NULL,
    views_pct            double precision,
    engagement_pct       double precision,
    posts_pct            double precision,
    kpi_pct              double precision,
    engagement_rate      double precision,
    timeline_pct         double precision,
    daily                jsonb       NOT NULL,
    platforms            jsonb       NOT NULL,
    influencers          jsonb       NOT NULL,
    -- When the numbers were computed (the kpi document's as_of); null before the first one.
    numbers_as_of        timestamptz,
    generated_at         timestamptz NOT NULL
);
