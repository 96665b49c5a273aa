SELECT count(*) FROM ingest.provider_state WHERE paused_at IS NOT NULL
