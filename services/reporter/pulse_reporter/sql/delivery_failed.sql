-- Tried again after the lease; `failed` for good after the last attempt.
UPDATE reporter.deliveries
SET attempts = attempts + 1, error = $2,
    status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE 'pending' END
WHERE id = $1
