SELECT d.id, d.period, d.recipients, d.status, d.attempts, d.share_link_id, d.error, d.created_at,
       d.sent_at
FROM reporter.deliveries AS d
JOIN reporter.schedules AS s ON s.id = d.schedule_id
WHERE d.org_id = $1 AND d.campaign_id = $2
ORDER BY d.created_at DESC
LIMIT 100
