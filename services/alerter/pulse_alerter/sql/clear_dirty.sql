DELETE FROM alerter.dirty_campaigns WHERE campaign_id = $1 AND seq = $2
