INSERT INTO ingest.runs (id, org_id, source, status, name, execution_id, started_at)
VALUES ($1, $2, $3, 'pending', $4, $5, $6)
RETURNING id, status, started_at
