SELECT EXISTS (
    SELECT 1
    FROM catalog.bookings b
    JOIN catalog.campaigns c ON c.org_id = b.org_id AND c.id = b.campaign_id
    WHERE b.org_id = $1 AND b.influencer_id = $2
      AND b.deleted_at IS NULL AND c.deleted_at IS NULL
)
