DELETE FROM catalog.sessions WHERE token_sha256 = $1 RETURNING id
