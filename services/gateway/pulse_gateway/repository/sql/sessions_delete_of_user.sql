DELETE FROM catalog.sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2
