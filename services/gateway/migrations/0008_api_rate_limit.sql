-- An organization's own API rate limit: requests per minute for each of its people (and each
-- API token). NULL: the gateway's default (PULSE_GATEWAY_API_REQUESTS_PER_MINUTE, 100 as seed
-- 001 asks). The counts themselves live in Redis, shared by every replica (rate_limits.py);
-- the bound keeps one caller's sliding window (a sorted set of a minute's requests) small.
ALTER TABLE catalog.organizations
    ADD COLUMN api_requests_per_minute integer
        CHECK (api_requests_per_minute BETWEEN 1 AND 10000);
