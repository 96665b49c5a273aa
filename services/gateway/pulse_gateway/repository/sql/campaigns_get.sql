-- As campaigns_read, locked until the commit: for a read before a write. A screen reads unlocked.
{{ campaigns_read }}
FOR UPDATE
