-- The documents as text: parsed once by the read model, never through the generic JSON codec.
SELECT campaign_id, as_of, document::text AS document
FROM catalog.campaign_numbers
WHERE org_id = $1 AND campaign_id = ANY ($2::uuid[])
