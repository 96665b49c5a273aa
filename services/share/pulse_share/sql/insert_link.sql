INSERT INTO share.links
    (id, org_id, campaign_id, token_sha256, created_by, expires_at, password_hash, show_forecast,
     show_emv)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id, campaign_id, created_by, created_at, expires_at,
          password_hash IS NOT NULL AS has_password, revoked_at, view_count, last_viewed_at,
          show_forecast, show_emv
