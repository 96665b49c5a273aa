SELECT name, brand_color FROM catalog.clients WHERE org_id = $1 AND id = $2
