-- The Influencers screen: every creator matching the search and the filters, A to Z, a page at
-- a time. Filters run here over the whole roster (an agency books hundreds of creators), and
-- the page after `$6` (a creator's id) starts past its (name, id), so none is skipped or shown
-- twice while creators are added between pages.
SELECT {{ influencers_row }}
FROM catalog.influencers AS i
WHERE org_id = $1
  AND deleted_at IS NULL
  AND ($2::text IS NULL OR display_name ILIKE $2)
  AND ($3::text IS NULL OR lower(tier) = lower($3))
  AND ($4::text IS NULL OR EXISTS (
      SELECT 1 FROM catalog.influencer_handles AS h
      WHERE h.influencer_id = i.id AND h.platform = $4))
  -- Followers over every handle; a creator with no known count is never above a threshold.
  AND ($5::bigint = 0 OR (
      SELECT sum(h.followers) FROM catalog.influencer_handles AS h
      WHERE h.influencer_id = i.id) >= $5)
  AND ($6::uuid IS NULL OR (lower(display_name), id) > (
      SELECT lower(display_name), id FROM catalog.influencers WHERE id = $6))
ORDER BY lower(display_name), id
LIMIT $7
