-- Tracing (pulse_runtime.tracing), after the outbox and inbox of 0000_runtime: an outbox row
-- keeps the W3C traceparent of the request or message that committed it, so the relay's publish
-- continues that trace; trace_marks keep it for work a background pass does later (the
-- aggregator's recompute). NULL and empty while tracing is off.
ALTER TABLE {schema}.outbox ADD COLUMN IF NOT EXISTS traceparent text;

CREATE TABLE IF NOT EXISTS {schema}.trace_marks (
    key         text PRIMARY KEY,
    traceparent text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
