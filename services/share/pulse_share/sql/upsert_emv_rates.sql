-- Newer wins: a late duplicate of an older organization event never replaces newer rates.
INSERT INTO share.org_emv_rates (org_id, rates, updated_at)
VALUES ($1, $2, $3)
ON CONFLICT (org_id) DO UPDATE
    SET rates = EXCLUDED.rates, updated_at = EXCLUDED.updated_at
    WHERE share.org_emv_rates.updated_at < EXCLUDED.updated_at
