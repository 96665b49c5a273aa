DELETE FROM ingest.benchmark_tags WHERE account_id = $1
