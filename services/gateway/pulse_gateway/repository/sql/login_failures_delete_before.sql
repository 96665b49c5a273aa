DELETE FROM catalog.login_failures WHERE at <= $1
