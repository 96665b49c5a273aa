INSERT INTO share.campaign_refs AS c (id, org_id, updated_at, deleted_at)
VALUES ($1, $2, $3, $3)
ON CONFLICT (id) DO UPDATE
SET deleted_at = excluded.deleted_at
WHERE c.deleted_at IS NULL AND c.org_id = excluded.org_id
RETURNING true
