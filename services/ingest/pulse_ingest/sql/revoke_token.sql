-- A revocation may arrive before the token itself: keep a tombstone so the late upsert loses.
INSERT INTO ingest.api_tokens (id, org_id, token_sha256, scopes, revoked_at, updated_at)
VALUES ($1, $2, gen_random_uuid()::text::bytea, '{}', $3, $3)
ON CONFLICT (id) DO UPDATE
SET revoked_at = LEAST(COALESCE(ingest.api_tokens.revoked_at, excluded.revoked_at),
                       excluded.revoked_at)
