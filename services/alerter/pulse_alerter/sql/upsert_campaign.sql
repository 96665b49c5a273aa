-- Keep the newer copy; a deleted campaign stays deleted.
INSERT INTO alerter.campaigns AS c (id, org_id, name, status, start_date, end_date, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE
SET name = excluded.name, status = excluded.status, start_date = excluded.start_date,
    end_date = excluded.end_date, updated_at = excluded.updated_at
WHERE c.updated_at < excluded.updated_at AND c.deleted_at IS NULL
