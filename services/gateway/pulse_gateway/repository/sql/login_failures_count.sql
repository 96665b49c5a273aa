SELECT count(*) FROM catalog.login_failures WHERE key = $1 AND at > now() - $2::interval
