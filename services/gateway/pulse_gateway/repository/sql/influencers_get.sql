-- As influencers_read, locked until the commit: for a read before a write. A screen reads unlocked.
{{ influencers_read }}
FOR UPDATE
