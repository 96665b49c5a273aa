UPDATE share.links SET view_count = view_count + 1, last_viewed_at = $2 WHERE id = $1
