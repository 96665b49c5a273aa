-- Notification channels of each organization (webhooks and email) and the log of every
-- delivery to them: one row per channel and alert event, retried with backoff until it is
-- delivered or has failed for good.

CREATE TABLE alerter.notification_channels (
    id             uuid PRIMARY KEY,
    org_id         uuid        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('webhook', 'email')),
    name           text        NOT NULL,
    -- A webhook URL or an email address. Webhook URLs are often credentials themselves
    -- (Slack, Teams), so the API shows them in full only once, at creation.
    target         text        NOT NULL,
    format         text        NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack')),
    min_severity   text        NOT NULL CHECK (min_severity IN ('info', 'warning', 'critical')),
    enabled        boolean     NOT NULL DEFAULT true,
    -- HMAC key for X-Pulse-Signature (webhooks only); never returned after creation.
    signing_secret text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((kind = 'webhook') = (signing_secret IS NOT NULL))
);
CREATE INDEX notification_channels_org ON alerter.notification_channels (org_id, created_at, id);

CREATE TABLE alerter.notification_deliveries (
    id               uuid PRIMARY KEY,
    channel_id       uuid        NOT NULL
        REFERENCES alerter.notification_channels (id) ON DELETE CASCADE,
    org_id           uuid        NOT NULL,
    event_id         uuid,  -- the alert event delivered; NULL for a test delivery
    alert_id         uuid,
    event_type       text        NOT NULL
        CHECK (event_type IN ('alert.raised', 'alert.resolved', 'test')),
    severity         text        NOT NULL,
    payload          jsonb       NOT NULL,
    status           text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text,
    last_status_code integer,
    created_at       timestamptz NOT NULL,
    delivered_at     timestamptz,
    -- Second line behind the inbox: one delivery per channel and event, whatever happens.
    UNIQUE (channel_id, event_id)
);
-- The sender's claim: due pending rows, oldest first.
CREATE INDEX notification_deliveries_due ON alerter.notification_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX notification_deliveries_log
    ON alerter.notification_deliveries (channel_id, created_at DESC, id DESC);
CREATE INDEX notification_deliveries_alert ON alerter.notification_deliveries (alert_id);
