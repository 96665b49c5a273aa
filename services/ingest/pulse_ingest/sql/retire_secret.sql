UPDATE ingest.signing_secrets
SET retired_at = $3
WHERE org_id = $1
  AND id = $2
  AND retired_at IS NULL
RETURNING id
