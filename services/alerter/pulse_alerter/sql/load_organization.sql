SELECT is_test, settings FROM alerter.organizations WHERE id = $1
