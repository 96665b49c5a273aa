-- Each booking's part of its campaign's daily series as per-day differences (domain.post_steps
-- summed over the booking's posts that are not removed, keyed by each post's own campaign and
-- booking). Each recompute adds the changes of the closes it folds in, so it reads one row per
-- booking and day (and each post's newest close) instead of every close of every post, and its
-- cost no longer grows with the campaign's history.
CREATE TABLE aggregator.booking_steps (
    campaign_id uuid    NOT NULL,
    booking_id  uuid    NOT NULL,
    day         date    NOT NULL,
    views       bigint  NOT NULL,
    engagement  bigint  NOT NULL,
    live        integer NOT NULL,
    PRIMARY KEY (campaign_id, booking_id, day)
);

-- Closes of batches not folded in yet (see sql/add_pending.sql): written by the subscribers,
-- taken by the next recompute of their campaign.
CREATE TABLE aggregator.pending_closes (
    campaign_id uuid        NOT NULL,
    post_id     uuid        NOT NULL,
    observed_at timestamptz NOT NULL,
    views       bigint,
    likes       bigint,
    comments    bigint,
    shares      bigint,
    saves       bigint,
    reach       bigint,
    estimated   boolean     NOT NULL
);
CREATE INDEX pending_closes_campaign ON aggregator.pending_closes (campaign_id);

-- A mark that also asks for the campaign's steps to be built again from its closes: a post
-- removed, or moved to another booking or campaign, takes its whole history with it.
ALTER TABLE aggregator.dirty_campaigns ADD COLUMN rebuild boolean NOT NULL DEFAULT false;

-- Campaigns that had samples before this table: built from their closes at the next recompute.
INSERT INTO aggregator.dirty_campaigns (campaign_id, org_id, seq, correlation_id, rebuild)
SELECT p.campaign_id, p.org_id, nextval('aggregator.dirty_seq'), 'migration 0002', true
FROM (SELECT DISTINCT ON (campaign_id) campaign_id, org_id
      FROM aggregator.posts ORDER BY campaign_id) AS p
ON CONFLICT (campaign_id) DO UPDATE SET rebuild = true;
