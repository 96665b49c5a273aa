SELECT EXISTS (SELECT 1 FROM ingest.provider_state WHERE org_id = $1 AND paused_at IS NOT NULL)
