id, display_name, avatar_url, tier, notes, created_at, updated_at
