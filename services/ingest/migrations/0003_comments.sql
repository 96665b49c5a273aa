-- Comments of tracked posts: fetched after successful metrics pulls, scored with VADER, kept
-- here with their text. Only counts leave ingest (post.comments_scored).

-- When the post's comments were last asked for. It is set when a fetch claims the post (before
-- the call), so two fetch commands for one post never both fetch its comments, and a failing
-- comments endpoint is asked again only after the cadence, like a successful one.
ALTER TABLE ingest.tracked_posts ADD COLUMN comments_checked_at timestamptz;

-- No foreign key to tracked_posts: posts are never deleted there (removal is a flag), and the
-- samples table makes the same choice.
CREATE TABLE ingest.comments (
    post_id             uuid        NOT NULL,
    platform_comment_id text        NOT NULL, -- the platform's id, unique within the post
    text                text        NOT NULL,
    author_handle       text,
    commented_at        timestamptz,
    like_count          bigint,               -- refreshed when the comment is seen again
    sentiment           real        NOT NULL, -- VADER compound score, -1 .. 1
    label               text        NOT NULL CHECK (label IN ('positive', 'neutral', 'negative')),
    fetched_at          timestamptz NOT NULL, -- first seen; a comment is scored once
    PRIMARY KEY (post_id, platform_comment_id)
);
CREATE INDEX comments_post_recent ON ingest.comments (post_id, commented_at DESC NULLS LAST);

-- Every comments fetch (all its pages), apart from pull_runs: those are the metrics pulls the
-- pull status and post.pull_failed are about, and a comments failure must not count there.
CREATE TABLE ingest.comment_pulls (
    id           bigserial PRIMARY KEY,
    org_id       uuid        NOT NULL,
    post_id      uuid        NOT NULL,
    command_id   uuid        NOT NULL, -- the FetchPosts whose successful pull led to it
    platform     text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('ok', 'failed', 'skipped')),
    http_status  smallint,
    latency_ms   integer     NOT NULL,
    credits      integer     NOT NULL,
    attempts     integer     NOT NULL,
    pages        integer     NOT NULL,
    received     integer     NOT NULL, -- comments in the answers (at most the per-pull bound)
    new_comments integer     NOT NULL, -- of those, not seen before
    error_code   text,
    error        text,
    started_at   timestamptz NOT NULL
);
CREATE INDEX comment_pulls_post ON ingest.comment_pulls (post_id, started_at DESC);
