-- The one lookup every public request makes, by the token's SHA-256: unknown, expired and
-- revoked tokens all cost exactly this statement.
SELECT l.id, l.org_id, l.campaign_id, l.expires_at, l.revoked_at, l.password_hash,
       coalesce(c.deleted_at IS NOT NULL, false) AS campaign_deleted
FROM share.links l
LEFT JOIN share.campaign_refs c ON c.id = l.campaign_id
WHERE l.token_sha256 = $1
