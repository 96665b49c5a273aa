-- ingest.samples by month (issue 17, storage that grows). Samples are kept forever (history is
-- what an agency sells), so the table only grows: one partition per UTC month of observed_at
-- keeps each month's heap and index a size vacuum and backups handle, and lets an operator
-- archive an old month by detaching it (docs/operations.md, "Samples by month") without
-- rewriting the rest. Queries, the primary key and ingest's ON CONFLICT stay on ingest.samples.
--
-- Which partition a sample lands in:
-- - its month's, samples_YYYY_MM. ingest makes the current month and the next ones ahead at
--   start-up and every hour (pulse_ingest.sample_months), so live samples always find theirs;
-- - samples_default for any month without one (a backfill of last year's posts, a month an
--   operator archived), so no sample is ever refused for want of a partition. ingest's hourly
--   pass then gives each such month (from 2000 on) its own partition and moves its rows there
--   (ingest.add_sample_month below), so the default stays empty between backfills.
-- The alternative, making a month's partition in the insert path when a batch needs one, puts
-- DDL (and its lock on the parent) inside the transaction that stores the batch and its
-- post.pulled; a default partition keeps every insert plain DML and moves the DDL off the hot
-- path.
--
-- The primary key (post_key, observed_at) contains the partition key, so it stays one unique
-- rule over the whole table: a sample has exactly one partition it can be in, and the
-- (post_key, observed_at) duplicate check that makes ingest idempotent holds across months, in
-- the default partition, and while rows move from the default to their month (both in one
-- transaction, under the lock below).
--
-- Existing rows move inside this migration, in one transaction: the old table is renamed, the
-- months it holds get their partitions, the rows are copied in key order, the primary key is
-- built over the loaded partitions (a bulk build: compact, like 0004's rewrite) and the old
-- table is dropped. It holds an exclusive lock on the samples while it runs (5 s per million
-- samples on the 2-core machine shared with other work, load average 10; 126 -> 108 bytes per
-- sample, as the primary key is rebuilt compact); run it like the other migrations, before
-- the new version serves.

ALTER TABLE ingest.samples RENAME TO samples_unpartitioned;
ALTER INDEX ingest.samples_pkey RENAME TO samples_unpartitioned_pkey;

-- The same columns in the same order (0001 packs the row without padding; 0004 narrowed
-- likes and reach), so P7's bytes per sample do not change.
CREATE TABLE ingest.samples (
    observed_at timestamptz NOT NULL,
    views       bigint,
    likes       integer,
    reach       integer,
    post_key    integer     NOT NULL,
    comments    integer,
    shares      integer,
    saves       integer,
    source      smallint    NOT NULL,
    estimated   boolean     NOT NULL DEFAULT false
) PARTITION BY RANGE (observed_at);

CREATE TABLE ingest.samples_default PARTITION OF ingest.samples DEFAULT;

-- Gives the UTC month starting at `month` its partition, moving that month's rows out of the
-- default partition; true when it made one, false when the month already had one (or a table
-- of that name exists, e.g. an archived month left detached under its name: its late samples
-- then stay in the default). Callers: this migration, ingest's hourly pass, the bench's seeder
-- and an operator. SECURITY DEFINER so that every partition belongs to ingest's role, whoever
-- calls it.
CREATE FUNCTION ingest.add_sample_month(month date) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_day constant date := date_trunc('month', month)::date;
    part      constant text := 'samples_' || to_char(first_day, 'YYYY_MM');
    from_at   constant text := to_char(first_day, 'YYYY-MM-DD') || ' 00:00:00+00';
    to_at     constant text := to_char(first_day + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00';
BEGIN
    IF to_regclass(format('ingest.%I', part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Replicas run their hourly pass at the same moments: one makes the month, the others
    -- find it made.
    PERFORM pg_advisory_xact_lock(hashtext('ingest.samples months'));
    IF to_regclass(format('ingest.%I', part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Writes to the default wait while its rows of this month move, so none is left behind
    -- to fail the ATTACH; reads go on, and writes to other partitions never wait.
    LOCK TABLE ingest.samples_default IN EXCLUSIVE MODE;
    EXECUTE format('CREATE TABLE ingest.%I (LIKE ingest.samples INCLUDING DEFAULTS)', part);
    EXECUTE format(
        'WITH moved AS (DELETE FROM ingest.samples_default '
        '               WHERE observed_at >= $1 AND observed_at < $2 RETURNING *) '
        'INSERT INTO ingest.%I SELECT * FROM moved ORDER BY post_key, observed_at', part)
        USING from_at::timestamptz, to_at::timestamptz;
    -- ATTACH (not CREATE TABLE … PARTITION OF) takes only a SHARE UPDATE EXCLUSIVE lock on
    -- ingest.samples: inserts and reads of the other months go on while a month is added.
    EXECUTE format(
        'ALTER TABLE ingest.samples ATTACH PARTITION ingest.%I FOR VALUES FROM (%L) TO (%L)',
        part, from_at, to_at);
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION ingest.add_sample_month(date) FROM PUBLIC;

-- The months the existing rows are in, and the current one; months before 2000 (no social
-- platform existed, so a typo) stay in the default, like ingest's hourly pass leaves them.
SELECT ingest.add_sample_month(month)
FROM (
    SELECT DISTINCT date_trunc('month', observed_at AT TIME ZONE 'UTC')::date AS month
    FROM ingest.samples_unpartitioned
    WHERE observed_at >= '2000-01-01 00:00:00+00'
    UNION
    SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date
) AS months
ORDER BY month;

INSERT INTO ingest.samples
    (observed_at, views, likes, reach, post_key, comments, shares, saves, source, estimated)
SELECT observed_at, views, likes, reach, post_key, comments, shares, saves, source, estimated
FROM ingest.samples_unpartitioned
ORDER BY post_key, observed_at;

DROP TABLE ingest.samples_unpartitioned;

-- Built after the load: one sorted build per partition. Months added later get theirs from
-- this one when they are attached.
ALTER TABLE ingest.samples ADD PRIMARY KEY (post_key, observed_at);

-- Autovacuum analyzes the partitions but never the partitioned table itself.
ANALYZE ingest.samples;
