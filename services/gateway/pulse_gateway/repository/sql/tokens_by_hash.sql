SELECT id, org_id, scopes FROM catalog.api_tokens
WHERE token_sha256 = $1 AND revoked_at IS NULL
