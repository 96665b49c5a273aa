-- Keep the newer copy: catalog events may arrive late or twice.
INSERT INTO alerter.organizations AS o (id, is_test, settings, updated_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE
SET is_test = excluded.is_test, settings = excluded.settings, updated_at = excluded.updated_at
WHERE o.updated_at < excluded.updated_at
