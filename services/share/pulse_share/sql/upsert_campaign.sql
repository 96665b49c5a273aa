-- Never clears deleted_at: a deleted campaign stays deleted whatever arrives after.
INSERT INTO share.campaign_refs AS c
    (id, org_id, client_id, name, status, start_date, end_date, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO UPDATE
SET client_id = excluded.client_id, name = excluded.name, status = excluded.status,
    start_date = excluded.start_date, end_date = excluded.end_date,
    updated_at = excluded.updated_at
WHERE c.updated_at < excluded.updated_at AND c.org_id = excluded.org_id
RETURNING true
