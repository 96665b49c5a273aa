-- Nothing when the set already holds the account (benchmark_accounts_once).
INSERT INTO catalog.benchmark_accounts (id, org_id, set_id, platform, handle)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING
RETURNING id, set_id, platform, handle, created_at, updated_at
