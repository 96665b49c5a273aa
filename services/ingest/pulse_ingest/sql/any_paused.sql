SELECT EXISTS (SELECT 1 FROM ingest.provider_state WHERE paused_at IS NOT NULL)
