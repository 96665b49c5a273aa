INSERT INTO ingest.pull_runs
    (org_id, post_id, command_id, priority, reason, platform, status, http_status, latency_ms,
     credits, attempts, error_code, error, started_at)
SELECT $1, r.post_id, $2, $3, $4, r.platform, r.status, r.http_status, r.latency_ms, r.credits,
       r.attempts, r.error_code, r.error, r.started_at
FROM unnest($5::uuid[], $6::text[], $7::text[], $8::smallint[], $9::integer[], $10::integer[],
            $11::integer[], $12::text[], $13::text[], $14::timestamptz[])
         AS r (post_id, platform, status, http_status, latency_ms, credits, attempts, error_code,
               error, started_at)
