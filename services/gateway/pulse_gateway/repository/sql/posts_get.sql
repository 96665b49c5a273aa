-- As posts_read, locked until the commit: for a read before a write. A screen reads unlocked.
{{ posts_read }}
FOR UPDATE
