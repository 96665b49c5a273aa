INSERT INTO share.access_log (link_id, at, address, user_agent, surface, outcome)
VALUES ($1, $2, $3, $4, $5, $6)
