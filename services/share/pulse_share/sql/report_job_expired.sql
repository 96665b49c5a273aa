UPDATE share.report_jobs
SET status = 'failed', error = 'the file expired', updated_at = '-infinity'
WHERE id = $1 AND status = 'done'
