INSERT INTO catalog.influencer_handles (influencer_id, org_id, platform, handle, followers)
SELECT $2, $1, h.platform, h.handle, h.followers
FROM unnest($3::text[], $4::text[], $5::bigint[]) AS h (platform, handle, followers)
RETURNING platform, handle, followers
