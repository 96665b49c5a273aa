-- Items that arrived carrying the run: counted, and the run is running from its first item on.
UPDATE ingest.runs
SET accepted        = accepted + $3,
    duplicates      = duplicates + $4,
    rejected        = rejected + $5,
    provider_errors = provider_errors + $6,
    status          = CASE WHEN status = 'pending' THEN 'running' ELSE status END
WHERE id = $1
  AND org_id = $2
RETURNING id
