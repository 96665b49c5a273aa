SELECT id, campaign_id, created_by, created_at, expires_at,
       password_hash IS NOT NULL AS has_password, revoked_at, view_count, last_viewed_at,
       show_forecast, show_emv
FROM share.links
WHERE org_id = $1 AND campaign_id = $2
ORDER BY created_at DESC, id
LIMIT $3
