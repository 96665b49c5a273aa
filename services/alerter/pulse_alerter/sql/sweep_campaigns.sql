-- Live campaigns, and any campaign that still has an open alert (so it can resolve).
SELECT campaign_id FROM alerter.campaign_numbers WHERE status = 'live'
UNION
SELECT campaign_id FROM alerter.alerts WHERE status = 'open' AND campaign_id IS NOT NULL
