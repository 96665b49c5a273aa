DELETE FROM catalog.login_failures WHERE key = $1
