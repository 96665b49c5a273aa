UPDATE ingest.signing_settings
SET signing_required = $2, updated_at = now()
WHERE org_id = $1
