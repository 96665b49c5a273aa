SELECT id, status FROM ingest.runs WHERE id = $1 AND org_id = $2 FOR UPDATE
