SELECT EXISTS (
    SELECT 1 FROM catalog.posts
    WHERE org_id = $1 AND booking_id = $2 AND url = $3 AND removed_at IS NULL
)
