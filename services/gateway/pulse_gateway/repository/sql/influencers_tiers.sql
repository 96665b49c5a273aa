-- The tiers the roster uses, for the Influencers screen's filter.
SELECT DISTINCT tier FROM catalog.influencers
WHERE org_id = $1 AND deleted_at IS NULL AND tier IS NOT NULL AND tier <> ''
ORDER BY tier
