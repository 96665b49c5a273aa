id, email, name, role, disabled_at IS NOT NULL AS disabled, created_at, updated_at
