-- The number document is written and read back whole, never queried inside, so it is kept as
-- `json` (the text as written, validated) rather than `jsonb` (converted to a binary tree on
-- every write and back to text on every read). For a 166 KB document that is 2.3 instead of
-- 5.1 ms of PostgreSQL's CPU to write and 0.27 instead of 0.90 ms to read back, and a
-- kpi.updated is written this way in four schemas (bench/RESULTS.md, session 11).
ALTER TABLE share.campaign_numbers ALTER COLUMN numbers TYPE json USING numbers::json;
