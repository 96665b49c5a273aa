-- Newer wins: a document computed earlier than the one held changes nothing. The numbers come
-- as JSON text, serialized by pydantic (the connection's json codec would use json.dumps).
INSERT INTO share.campaign_numbers AS n (campaign_id, org_id, as_of, numbers)
VALUES ($1, $2, $3, $4::text::json)
ON CONFLICT (campaign_id) DO UPDATE
SET as_of = excluded.as_of, numbers = excluded.numbers
WHERE n.as_of < excluded.as_of AND n.org_id = excluded.org_id
RETURNING true
