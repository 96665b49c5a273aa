SELECT signing_required
FROM ingest.signing_settings
WHERE org_id = $1
FOR UPDATE
