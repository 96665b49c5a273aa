SELECT id, sealed, hint, created_at
FROM ingest.signing_secrets
WHERE org_id = $1
  AND retired_at IS NULL
ORDER BY created_at, id
