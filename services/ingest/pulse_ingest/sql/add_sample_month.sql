-- The month's partition of ingest.samples, its rows moved out of the default (migration 0008).
SELECT ingest.add_sample_month($1::date)
