-- What the webhook needs per request: is signing required, and the active sealed secrets.
SELECT COALESCE((SELECT signing_required FROM ingest.signing_settings WHERE org_id = $1), false)
           AS required,
       ARRAY(SELECT sealed FROM ingest.signing_secrets
             WHERE org_id = $1 AND retired_at IS NULL ORDER BY created_at) AS sealed
