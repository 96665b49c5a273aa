UPDATE alerter.posts SET posted_at = $2 WHERE id = $1
