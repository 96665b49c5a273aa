-- A tombstone for the campaign (org unknown when it was never upserted here).
INSERT INTO alerter.campaigns (id, org_id, name, status, start_date, end_date, updated_at,
                               deleted_at)
VALUES ($1, $2, '', 'ended', '1970-01-01', '1970-01-01', $3, $3)
ON CONFLICT (id) DO UPDATE SET deleted_at = coalesce(alerter.campaigns.deleted_at, $3)
