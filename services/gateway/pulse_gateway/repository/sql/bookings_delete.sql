UPDATE catalog.bookings SET deleted_at = clock_timestamp(), updated_at = clock_timestamp()
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
RETURNING deleted_at
