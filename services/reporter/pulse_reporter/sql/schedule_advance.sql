UPDATE reporter.schedules SET next_due_at = $2, updated_at = now() WHERE id = $1
