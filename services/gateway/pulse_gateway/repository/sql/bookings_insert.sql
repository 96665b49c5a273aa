INSERT INTO catalog.bookings AS b
    (org_id, id, influencer_id, fee_cents, committed_views, committed_engagement,
     committed_posts, min_engagement_rate, exclusivity_days, usage_rights_days, notes,
     campaign_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING {{ bookings_row }}
