INSERT INTO ingest.signing_secrets (id, org_id, sealed, hint, created_at)
VALUES ($1, $2, $3, $4, $5)
