INSERT INTO reporter.render_starts (job_id, attempt, replica) VALUES ($1, $2, $3)
