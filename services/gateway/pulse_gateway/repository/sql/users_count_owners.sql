SELECT count(*) FROM catalog.users
WHERE org_id = $1 AND role = 'owner' AND disabled_at IS NULL AND id <> $2
