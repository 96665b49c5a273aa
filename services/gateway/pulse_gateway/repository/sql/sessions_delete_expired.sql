DELETE FROM catalog.sessions WHERE expires_at <= $1
