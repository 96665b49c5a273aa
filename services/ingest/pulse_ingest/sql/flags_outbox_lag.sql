-- How long the oldest event has waited to be published (0 when the outbox is empty).
SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 FROM ingest.outbox
