-- One evaluation of a campaign at a time (key 11: the alerter's campaign locks).
SELECT pg_advisory_xact_lock(hashtextextended($1::text, 11))
