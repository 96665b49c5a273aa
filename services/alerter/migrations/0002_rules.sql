-- Reference copies the booking and post rules read (design/kpis.md "Alert rules"): each
-- organization's thresholds, campaign dates and status, influencer names and followers, and
-- what the post.* events told about each post (last data, failed pulls, comment sentiment).

CREATE TABLE alerter.organizations (
    id         uuid PRIMARY KEY,
    is_test    boolean     NOT NULL DEFAULT false,
    settings   jsonb       NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL
);

CREATE TABLE alerter.campaigns (
    id         uuid PRIMARY KEY,
    org_id     uuid        NOT NULL,
    name       text        NOT NULL,
    status     text        NOT NULL,
    start_date date        NOT NULL,
    end_date   date        NOT NULL,
    updated_at timestamptz NOT NULL,
    -- A tombstone, so a late upsert cannot bring a deleted campaign back.
    deleted_at timestamptz
);
CREATE INDEX campaigns_status ON alerter.campaigns (status) WHERE deleted_at IS NULL;

CREATE TABLE alerter.influencers (
    id           uuid PRIMARY KEY,
    org_id       uuid        NOT NULL,
    display_name text        NOT NULL,
    handles      jsonb       NOT NULL DEFAULT '[]',
    updated_at   timestamptz NOT NULL
);

-- Deleted bookings: left out of the rules even while the newest kpi.updated still lists them,
-- and a post registered late under one is born removed.
CREATE TABLE alerter.deleted_bookings (
    id          uuid PRIMARY KEY,
    campaign_id uuid        NOT NULL,
    deleted_at  timestamptz NOT NULL
);
CREATE INDEX deleted_bookings_campaign ON alerter.deleted_bookings (campaign_id);

-- post.* and catalog.post.* arrive on different queues in any order: every column may be
-- filled first, so only the ids are required.
CREATE TABLE alerter.posts (
    id                 uuid PRIMARY KEY,
    org_id             uuid        NOT NULL,
    campaign_id        uuid        NOT NULL,
    booking_id         uuid        NOT NULL,
    platform           text,
    registered_at      timestamptz,
    posted_at          timestamptz,
    removed_at         timestamptz,
    last_data_at       timestamptz,
    failures           integer     NOT NULL DEFAULT 0,
    failures_at        timestamptz,
    comments_analysed  integer,
    comments_negative  integer,
    comments_scored_at timestamptz
);
CREATE INDEX posts_campaign ON alerter.posts (campaign_id);
CREATE INDEX posts_booking ON alerter.posts (booking_id);

-- Which influencer a booking is for, so post alerts name the creator before any numbers exist.
CREATE TABLE alerter.bookings (
    id            uuid PRIMARY KEY,
    campaign_id   uuid        NOT NULL,
    influencer_id uuid        NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX bookings_campaign ON alerter.bookings (campaign_id);
