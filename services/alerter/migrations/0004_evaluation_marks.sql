-- Campaigns whose rules must be evaluated again. Events only mark them, and one evaluation per
-- campaign follows a burst however many events it held (consumer.Evaluator), so a backlog of
-- kpi.updated and post.* costs one cheap write per message, not one evaluation each. `seq`
-- comes from one sequence, so an evaluation clears the mark only if nothing marked the
-- campaign again while it ran.
CREATE SEQUENCE alerter.dirty_seq;
CREATE TABLE alerter.dirty_campaigns (
    campaign_id    uuid PRIMARY KEY,
    seq            bigint      NOT NULL,
    -- The correlation id of the latest cause, carried on into the alert events for tracing.
    correlation_id text        NOT NULL,
    marked_at      timestamptz NOT NULL DEFAULT now()
);
