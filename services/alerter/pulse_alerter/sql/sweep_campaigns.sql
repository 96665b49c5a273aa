-- Live campaigns, ended ones still inside their pull window (stale_data watches them), and
-- any campaign that still has an open alert (so it can resolve).
SELECT campaign_id FROM alerter.campaign_numbers WHERE status = 'live'
UNION
SELECT id FROM alerter.campaigns
WHERE deleted_at IS NULL
  AND (status = 'live' OR (status = 'ended' AND end_date + 8 > ($1::timestamptz AT TIME ZONE 'UTC')::date))
UNION
SELECT campaign_id FROM alerter.alerts WHERE status = 'open' AND campaign_id IS NOT NULL
