-- alerter owns the newest number document of each campaign it evaluates, the alerts it
-- raised, and every raise, escalation and resolution in their history.

CREATE TABLE alerter.campaign_numbers (
    campaign_id uuid PRIMARY KEY,
    org_id      uuid        NOT NULL,
    status      text,
    document    jsonb       NOT NULL,
    as_of       timestamptz NOT NULL
);
CREATE INDEX campaign_numbers_status ON alerter.campaign_numbers (status);

CREATE TABLE alerter.alerts (
    id              uuid PRIMARY KEY,
    org_id          uuid        NOT NULL,
    campaign_id     uuid,
    booking_id      uuid,
    post_id         uuid,
    type            text        NOT NULL,
    scope           text        NOT NULL,
    severity        text        NOT NULL,
    message         text        NOT NULL,
    debounce_key    text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('open', 'resolved')),
    raised_at       timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    resolved_at     timestamptz,
    resolved_by     text CHECK (resolved_by IN ('system', 'user')),
    resolved_by_user uuid,
    resolution_note text
);
-- At most one open alert per debounce key (kpis.md), enforced by the database itself.
CREATE UNIQUE INDEX alerts_one_open ON alerter.alerts (debounce_key) WHERE status = 'open';
CREATE INDEX alerts_key_newest ON alerter.alerts (debounce_key, raised_at DESC);
CREATE INDEX alerts_org_list ON alerter.alerts (org_id, status, raised_at DESC);
CREATE INDEX alerts_campaign ON alerter.alerts (campaign_id) WHERE status = 'open';

CREATE TABLE alerter.alert_history (
    id       bigserial PRIMARY KEY,
    alert_id uuid        NOT NULL REFERENCES alerter.alerts (id),
    at       timestamptz NOT NULL,
    action   text        NOT NULL CHECK (action IN ('raised', 'escalated', 'resolved')),
    severity text        NOT NULL,
    actor    text        NOT NULL,
    note     text
);
CREATE INDEX alert_history_alert ON alerter.alert_history (alert_id, id);
