SELECT paused_at, paused_reason, resumed_at
FROM ingest.provider_state
WHERE org_id = $1
