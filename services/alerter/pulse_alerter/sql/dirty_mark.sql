SELECT campaign_id, seq, correlation_id FROM alerter.dirty_campaigns WHERE campaign_id = $1
