-- A deletion may overtake the campaign's own upsert: keep a tombstone the upsert cannot undo.
INSERT INTO aggregator.campaigns AS c
    (id, org_id, client_id, name, status, start_date, end_date, currency, deleted_at, updated_at)
VALUES ($1, $2, $1, '', 'ended', 'epoch', 'epoch', 'USD', $3, '-infinity')
ON CONFLICT (id) DO UPDATE SET deleted_at = COALESCE(c.deleted_at, excluded.deleted_at)
