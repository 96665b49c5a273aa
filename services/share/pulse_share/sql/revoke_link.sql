UPDATE share.links SET revoked_at = coalesce(revoked_at, $3)
WHERE id = $1 AND org_id = $2
RETURNING id, campaign_id, created_by, created_at, expires_at,
          password_hash IS NOT NULL AS has_password, revoked_at, view_count, last_viewed_at,
          show_forecast, show_emv
