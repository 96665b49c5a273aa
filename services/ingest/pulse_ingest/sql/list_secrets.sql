SELECT id, hint, created_at, retired_at
FROM ingest.signing_secrets
WHERE org_id = $1
ORDER BY created_at DESC, id
LIMIT 50
