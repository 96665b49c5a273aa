SELECT EXISTS (SELECT 1 FROM catalog.posts WHERE org_id = $1 AND id = $2)
