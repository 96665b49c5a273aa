SELECT csrf_token FROM catalog.sessions WHERE token_sha256 = $1 AND expires_at > now()
