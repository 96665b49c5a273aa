-- The gateway owns the catalog: organizations, people, tokens, clients, campaigns, creators,
-- bookings, post registrations, and the audit log of every catalog write.
-- The tables are the agency's data and carry row-level security as a second line of defence.

CREATE TABLE catalog.organizations (
    id         uuid PRIMARY KEY,
    name       text        NOT NULL,
    is_test    boolean     NOT NULL DEFAULT false,
    settings   jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE catalog.users (
    id            uuid PRIMARY KEY,
    org_id        uuid        NOT NULL REFERENCES catalog.organizations (id),
    email         text        NOT NULL,
    name          text        NOT NULL DEFAULT '',
    role          text        NOT NULL CHECK (role IN ('owner', 'manager', 'analyst')),
    password_hash text,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- People sign in with their email alone, so an email belongs to one account.
CREATE UNIQUE INDEX users_email ON catalog.users (lower(email));

CREATE TABLE catalog.api_tokens (
    id           uuid PRIMARY KEY,
    org_id       uuid        NOT NULL REFERENCES catalog.organizations (id),
    name         text        NOT NULL,
    token_sha256 bytea       NOT NULL UNIQUE,
    scopes       text[]      NOT NULL,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE catalog.clients (
    id          uuid PRIMARY KEY,
    org_id      uuid        NOT NULL REFERENCES catalog.organizations (id),
    name        text        NOT NULL,
    brand_color text,
    logo_url    text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at  timestamptz
);

CREATE TABLE catalog.campaigns (
    id                   uuid PRIMARY KEY,
    org_id               uuid        NOT NULL REFERENCES catalog.organizations (id),
    client_id            uuid        NOT NULL REFERENCES catalog.clients (id),
    name                 text        NOT NULL,
    status               text        NOT NULL CHECK (status IN ('draft', 'live', 'paused', 'ended')),
    start_date           date        NOT NULL,
    end_date             date        NOT NULL,
    budget_cents         bigint CHECK (budget_cents >= 0),
    currency             text        NOT NULL,
    committed_views      bigint CHECK (committed_views >= 0),
    committed_engagement bigint CHECK (committed_engagement >= 0),
    notes                text        NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at           timestamptz,
    CHECK (end_date >= start_date)
);
CREATE INDEX campaigns_org ON catalog.campaigns (org_id, start_date DESC) WHERE deleted_at IS NULL;

CREATE TABLE catalog.influencers (
    id           uuid PRIMARY KEY,
    org_id       uuid        NOT NULL REFERENCES catalog.organizations (id),
    display_name text        NOT NULL,
    avatar_url   text,
    tier         text,
    notes        text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at   timestamptz
);

CREATE TABLE catalog.influencer_handles (
    influencer_id uuid   NOT NULL REFERENCES catalog.influencers (id) ON DELETE CASCADE,
    org_id        uuid   NOT NULL,
    platform      text   NOT NULL,
    handle        text   NOT NULL,
    followers     bigint CHECK (followers >= 0),
    PRIMARY KEY (influencer_id, platform, handle)
);

CREATE TABLE catalog.bookings (
    id                   uuid PRIMARY KEY,
    org_id               uuid        NOT NULL REFERENCES catalog.organizations (id),
    campaign_id          uuid        NOT NULL REFERENCES catalog.campaigns (id),
    influencer_id        uuid        NOT NULL REFERENCES catalog.influencers (id),
    fee_cents            bigint      NOT NULL CHECK (fee_cents >= 0),
    committed_views      bigint CHECK (committed_views >= 0),
    committed_engagement bigint CHECK (committed_engagement >= 0),
    committed_posts      integer CHECK (committed_posts >= 0),
    min_engagement_rate  numeric(6, 2) CHECK (min_engagement_rate >= 0),
    exclusivity_days     integer CHECK (exclusivity_days >= 0),
    usage_rights_days    integer CHECK (usage_rights_days >= 0),
    notes                text        NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at           timestamptz
);
CREATE INDEX bookings_campaign ON catalog.bookings (campaign_id) WHERE deleted_at IS NULL;
CREATE INDEX bookings_influencer ON catalog.bookings (influencer_id) WHERE deleted_at IS NULL;

CREATE TABLE catalog.posts (
    id               uuid PRIMARY KEY,
    org_id           uuid        NOT NULL REFERENCES catalog.organizations (id),
    booking_id       uuid        NOT NULL REFERENCES catalog.bookings (id),
    campaign_id      uuid        NOT NULL REFERENCES catalog.campaigns (id),
    platform         text        NOT NULL,
    url              text        NOT NULL,
    platform_post_id text,
    registered_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    removed_at       timestamptz
);
CREATE INDEX posts_campaign ON catalog.posts (campaign_id) WHERE removed_at IS NULL;
-- The same URL twice on one booking is a mistake, not a second post.
CREATE UNIQUE INDEX posts_booking_url ON catalog.posts (booking_id, url) WHERE removed_at IS NULL;

CREATE TABLE catalog.audit_log (
    id         bigserial PRIMARY KEY,
    org_id     uuid        NOT NULL,
    actor      text        NOT NULL,
    action     text        NOT NULL,
    entity     text        NOT NULL,
    entity_id  uuid        NOT NULL,
    before     jsonb,
    after      jsonb,
    request_id text,
    at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_log_org ON catalog.audit_log (org_id, at DESC);

-- Sessions, sign-in links and login attempts are looked up by a secret's hash before any
-- organization is known; they hold no catalog data, so they are outside row-level security.
CREATE TABLE catalog.sessions (
    token_sha256 bytea PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES catalog.users (id) ON DELETE CASCADE,
    org_id       uuid        NOT NULL,
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE TABLE catalog.email_links (
    token_sha256 bytea PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES catalog.users (id) ON DELETE CASCADE,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);

CREATE TABLE catalog.login_failures (
    key text        NOT NULL,
    at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key ON catalog.login_failures (key, at);

-- Row-level security: every statement on a catalog table sees only the organization named by
-- `pulse.org_id` for its transaction (set by the repository layer), so a forgotten filter
-- returns nothing rather than another agency's data. FORCE applies it to the owning role too.
CREATE FUNCTION catalog.current_org() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('pulse.org_id', true), '')::uuid $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['api_tokens', 'clients', 'campaigns', 'influencers',
                             'influencer_handles', 'bookings', 'posts', 'audit_log']
    LOOP
        EXECUTE format('ALTER TABLE catalog.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE catalog.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON catalog.%I USING (org_id = catalog.current_org()) '
                       'WITH CHECK (org_id = catalog.current_org())', t);
    END LOOP;
END $$;

ALTER TABLE catalog.organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog.organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON catalog.organizations USING (id = catalog.current_org())
    WITH CHECK (id = catalog.current_org());

-- Sign-in must find a user by email before the organization is known: that one lookup runs
-- with `pulse.auth_lookup` set, and may only read users.
ALTER TABLE catalog.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog.users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON catalog.users USING (org_id = catalog.current_org())
    WITH CHECK (org_id = catalog.current_org());
CREATE POLICY sign_in ON catalog.users FOR SELECT
    USING (current_setting('pulse.auth_lookup', true) = 'on');

-- API tokens are found by their hash before the organization is known, like sign-in.
CREATE POLICY token_lookup ON catalog.api_tokens FOR SELECT
    USING (current_setting('pulse.auth_lookup', true) = 'on');
