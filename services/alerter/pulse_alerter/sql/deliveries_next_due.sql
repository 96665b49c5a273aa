SELECT min(next_attempt_at) FROM alerter.notification_deliveries WHERE status = 'pending'
