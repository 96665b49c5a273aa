DELETE FROM catalog.campaign_numbers WHERE org_id = $1 AND campaign_id = $2
