SELECT true FROM aggregator.dirty_campaigns WHERE campaign_id = $1 AND seq = $2
