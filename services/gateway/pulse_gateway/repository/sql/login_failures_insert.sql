INSERT INTO catalog.login_failures (key) VALUES ($1)
