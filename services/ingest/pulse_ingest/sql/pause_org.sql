INSERT INTO ingest.provider_state (org_id, paused_at, paused_reason, updated_at)
VALUES ($1, $2, $3, $2)
ON CONFLICT (org_id) DO UPDATE
SET paused_at     = COALESCE(ingest.provider_state.paused_at, excluded.paused_at),
    paused_reason = COALESCE(ingest.provider_state.paused_reason, excluded.paused_reason),
    updated_at    = excluded.updated_at
