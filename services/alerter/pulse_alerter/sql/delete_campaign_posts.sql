DELETE FROM alerter.posts WHERE campaign_id = $1
