SELECT COALESCE((SELECT is_test FROM ingest.organizations WHERE id = $1), false)
