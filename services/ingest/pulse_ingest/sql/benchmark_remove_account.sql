INSERT INTO ingest.benchmark_accounts (id, org_id, set_id, platform, handle, updated_at, removed_at)
VALUES ($1, $2, $3, 'tiktok', '', $4, $4)
ON CONFLICT (id) DO UPDATE SET removed_at = excluded.removed_at
