-- As bookings_read, locked until the commit: for a read before a write. A screen reads unlocked.
{{ bookings_read }}
FOR UPDATE OF b
