INSERT INTO ingest.organizations (id, name, is_test, settings, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE
SET name = excluded.name, is_test = excluded.is_test, settings = excluded.settings,
    updated_at = excluded.updated_at
WHERE ingest.organizations.updated_at < excluded.updated_at
