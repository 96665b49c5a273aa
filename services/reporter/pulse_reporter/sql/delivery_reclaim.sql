-- A pending delivery whose replica's lease ran out (it died mid-delivery): this replica's now.
UPDATE reporter.deliveries
SET claimed_by = $2, claimed_until = $3
WHERE id = (
    SELECT id FROM reporter.deliveries
    WHERE status = 'pending' AND claimed_until < $1 AND attempts < $4
    ORDER BY claimed_until
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING id
