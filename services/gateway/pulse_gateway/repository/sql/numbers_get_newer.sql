-- The documents as text (parsed once by the read model, never through the generic JSON codec),
-- each only when newer than what the caller holds: a re-check of held documents reads as_of.
SELECT n.campaign_id, n.as_of,
       CASE WHEN k.known IS NULL OR n.as_of > k.known THEN n.document::text END AS document
FROM unnest($2::uuid[], $3::timestamptz[]) AS k (campaign_id, known)
JOIN catalog.campaign_numbers AS n ON n.campaign_id = k.campaign_id
WHERE n.org_id = $1
