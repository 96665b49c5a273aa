-- Scheduled client reports: per campaign a weekly or monthly schedule with its recipients, and
-- the delivery log. A delivery is unique per (schedule, period): whichever replica inserts it
-- first owns that period's mail, so two replicas and a restart send it once. A delivery is
-- claimed for a lease (claimed_until): a replica that died mid-delivery leaves it to be picked
-- up again once the lease runs out.
CREATE TABLE reporter.schedules (
    id           uuid PRIMARY KEY,
    org_id       uuid        NOT NULL,
    campaign_id  uuid        NOT NULL,
    cadence      text        NOT NULL CHECK (cadence IN ('weekly', 'monthly')),
    recipients   text[]      NOT NULL CHECK (cardinality(recipients) BETWEEN 1 AND 20),
    next_due_at  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, campaign_id)
);
CREATE INDEX schedules_due ON reporter.schedules (next_due_at);

CREATE TABLE reporter.deliveries (
    id            uuid PRIMARY KEY,
    schedule_id   uuid        NOT NULL REFERENCES reporter.schedules (id) ON DELETE CASCADE,
    org_id        uuid        NOT NULL,
    campaign_id   uuid        NOT NULL,
    period        text        NOT NULL,
    recipients    text[]      NOT NULL,
    status        text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'failed')),
    attempts      integer     NOT NULL DEFAULT 0,
    claimed_by    text,
    claimed_until timestamptz,
    -- The link the mail carried, by id: its URL holds the link's token, a secret share keeps
    -- only as a hash (design/security.md), so it is in the mail and nowhere at rest.
    share_link_id uuid,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    UNIQUE (schedule_id, period)
);
CREATE INDEX deliveries_open ON reporter.deliveries (claimed_until) WHERE status = 'pending';
CREATE INDEX deliveries_schedule ON reporter.deliveries (schedule_id, created_at DESC);
