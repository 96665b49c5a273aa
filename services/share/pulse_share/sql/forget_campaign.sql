WITH numbers AS (DELETE FROM share.campaign_numbers WHERE campaign_id = $1 AND org_id = $2)
DELETE FROM share.campaigns WHERE campaign_id = $1 AND org_id = $2
