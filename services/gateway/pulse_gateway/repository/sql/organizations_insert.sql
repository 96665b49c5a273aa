INSERT INTO catalog.organizations (id, name, is_test, settings)
VALUES ($1, $2, $3, $4)
RETURNING id, name, is_test, settings, created_at, updated_at
