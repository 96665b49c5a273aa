SELECT {{ users_row }}
FROM catalog.users
WHERE org_id = $1 AND id = $2
FOR UPDATE
