-- As clients_read, locked until the commit: for a read before a write. A screen reads unlocked.
{{ clients_read }}
FOR UPDATE
