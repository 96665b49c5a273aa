-- FOR SHARE: the client cannot be deleted until this campaign write commits.
SELECT id FROM catalog.clients
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
FOR SHARE
