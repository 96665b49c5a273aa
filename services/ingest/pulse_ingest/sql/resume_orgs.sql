-- $1: the organizations to resume, or NULL for every paused one.
UPDATE ingest.provider_state
SET paused_at = NULL, paused_reason = NULL, resumed_at = $2, updated_at = $2
WHERE paused_at IS NOT NULL
  AND ($1::uuid[] IS NULL OR org_id = ANY ($1::uuid[]))
RETURNING org_id
