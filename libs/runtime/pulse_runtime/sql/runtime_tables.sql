-- Outbox and inbox of one service, created in its own schema before its own migrations.
CREATE TABLE IF NOT EXISTS {schema}.outbox (
    id             bigserial PRIMARY KEY,
    event_id       uuid        NOT NULL,
    exchange       text        NOT NULL,
    routing_key    text        NOT NULL,
    correlation_id text        NOT NULL,
    body           bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS {schema}.inbox (
    event_id    uuid PRIMARY KEY,
    event_type  text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
