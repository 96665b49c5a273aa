-- An outbox row's body is compressed once when written, then read once by the relay and
-- deleted: lz4 compresses it for about a quarter of pglz's CPU (a post.pulled of 500 samples,
-- 166 KB: 0.8-1.0 instead of 2.9-4.0 ms of PostgreSQL per insert, bench/RESULTS.md session 17).
-- Rows written before keep pglz and stay readable. A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE {schema}.outbox ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: {schema}.outbox keeps pglz';
END $$;
