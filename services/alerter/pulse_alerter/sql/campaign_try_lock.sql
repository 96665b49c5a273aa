-- campaign_lock.sql without waiting (the same key).
SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 11))
