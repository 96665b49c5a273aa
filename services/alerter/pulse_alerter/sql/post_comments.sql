-- Counts cover every comment analysed so far: the greatest scored_at wins.
INSERT INTO alerter.posts AS p (id, org_id, campaign_id, booking_id, platform,
                                comments_analysed, comments_negative, comments_scored_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO UPDATE
SET comments_analysed = excluded.comments_analysed,
    comments_negative = excluded.comments_negative,
    comments_scored_at = excluded.comments_scored_at,
    platform = coalesce(p.platform, excluded.platform)
WHERE p.comments_scored_at IS NULL OR p.comments_scored_at < excluded.comments_scored_at
