UPDATE catalog.bookings AS b
SET influencer_id = $3, fee_cents = $4, committed_views = $5, committed_engagement = $6,
    committed_posts = $7, min_engagement_rate = $8, exclusivity_days = $9,
    usage_rights_days = $10, notes = $11, updated_at = clock_timestamp()
WHERE b.org_id = $1 AND b.id = $2 AND b.deleted_at IS NULL
RETURNING {{ bookings_row }}
