SELECT id, name, is_test, settings, created_at, updated_at
FROM catalog.organizations WHERE id = $1
