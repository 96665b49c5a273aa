SELECT session_id, user_id, org_id, role, csrf_token FROM catalog.session_caller($1, $2)
