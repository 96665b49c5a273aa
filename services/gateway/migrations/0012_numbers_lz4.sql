-- The numbers document (about 100 KB for a campaign of 200 posts) is compressed on every
-- kpi.updated stored: with lz4 instead of pglz, storing one took 1.3 instead of 2.0 ms of
-- PostgreSQL (bench/RESULTS.md, session 17). Documents stored before keep pglz until
-- replaced. A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE catalog.campaign_numbers ALTER COLUMN document SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: catalog.campaign_numbers keeps pglz';
END $$;
