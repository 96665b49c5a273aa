-- The UTC months with samples in the default partition (backfills of months without their own
-- partition yet). Before 2000 no social platform existed: such a month is a typo, left visible
-- in the default rather than given a partition of its own.
SELECT DISTINCT date_trunc('month', observed_at AT TIME ZONE 'UTC')::date AS month
FROM ingest.samples_default
WHERE observed_at >= '2000-01-01 00:00:00+00'
ORDER BY month
