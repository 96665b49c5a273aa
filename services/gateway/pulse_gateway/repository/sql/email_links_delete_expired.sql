DELETE FROM catalog.email_links WHERE expires_at <= $1
