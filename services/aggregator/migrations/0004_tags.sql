-- Hashtags and mentions (docs/insights.md): each post's, read once from its caption when the
-- caption arrives, and their rollup per campaign and publication day, written by the same
-- recompute that writes the campaign's numbers, so a read sums a few rows and never a caption.
ALTER TABLE aggregator.posts ADD COLUMN hashtags text[], ADD COLUMN mentions text[];

CREATE TABLE aggregator.campaign_tags (
    campaign_id uuid   NOT NULL,
    org_id      uuid   NOT NULL,
    kind        text   NOT NULL CHECK (kind IN ('hashtag', 'mention')),
    tag         text   NOT NULL,
    -- The UTC date the posts were published; null while the provider has not told us.
    day         date,
    posts       integer NOT NULL,
    views       bigint  NOT NULL,
    engagement  bigint  NOT NULL,
    CONSTRAINT campaign_tags_key UNIQUE NULLS NOT DISTINCT (campaign_id, kind, tag, day)
);

-- Captions stored before this table: read at the campaign's next recompute (handlers), which
-- these marks ask for.
INSERT INTO aggregator.dirty_campaigns (campaign_id, org_id, seq, correlation_id)
SELECT p.campaign_id, p.org_id, nextval('aggregator.dirty_seq'), 'migration 0004'
FROM (SELECT DISTINCT ON (campaign_id) campaign_id, org_id
      FROM aggregator.posts WHERE caption IS NOT NULL ORDER BY campaign_id) AS p
ON CONFLICT (campaign_id) DO NOTHING;
