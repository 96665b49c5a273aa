SELECT 1 FROM ingest.inbox WHERE event_id = $1
