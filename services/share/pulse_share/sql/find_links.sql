-- The one lookup every public request makes, by the token's SHA-256: unknown, expired and
-- revoked tokens all cost exactly this statement. Several requests' tokens at once
-- (handlers.LinkLookups: the requests arriving during one lookup share the next). It also says
-- which projection of the campaign is current, so a replica that holds that one parsed need
-- not read it (handlers.Projections), and, for a link that opted in to EMV, the
-- organization's rates.
SELECT l.token_sha256, l.id, l.org_id, l.campaign_id, l.expires_at, l.revoked_at,
       l.password_hash, coalesce(c.deleted_at IS NOT NULL, false) AS campaign_deleted,
       p.generated_at AS projection_version, l.show_forecast, l.show_emv,
       CASE WHEN l.show_emv THEN coalesce(r.rates, '{}'::jsonb) END AS emv_rates
FROM share.links l
LEFT JOIN share.campaign_refs c ON c.id = l.campaign_id
LEFT JOIN share.campaigns p ON p.campaign_id = l.campaign_id AND p.org_id = l.org_id
LEFT JOIN share.org_emv_rates r ON r.org_id = l.org_id
WHERE l.token_sha256 = ANY($1::bytea[])
