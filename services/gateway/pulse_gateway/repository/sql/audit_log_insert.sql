INSERT INTO catalog.audit_log (org_id, actor, action, entity, entity_id, before, after, request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
