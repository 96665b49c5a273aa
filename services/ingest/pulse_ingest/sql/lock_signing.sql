-- Make sure the organization has a signing row; the caller then locks it (signing_settings).
INSERT INTO ingest.signing_settings (org_id, signing_required, updated_at)
VALUES ($1, false, now())
ON CONFLICT (org_id) DO NOTHING
