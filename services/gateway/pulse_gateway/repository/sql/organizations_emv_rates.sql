-- The organization's own EMV rates (only what it chose; emv.EmvRates adds the defaults). A read
-- on the numbers' path: no lock, one row by primary key, under row-level security.
SELECT settings -> 'emv_rates' AS emv_rates
FROM catalog.organizations
WHERE id = $1
