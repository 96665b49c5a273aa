-- A link shows the campaign's delivery forecast (docs/insights.md) only when its creator opted
-- in: off by default, so every existing link keeps showing exactly what it showed.
ALTER TABLE share.links ADD COLUMN show_forecast boolean NOT NULL DEFAULT false;

-- The campaign's delivery forecast in its projection (no money in it); each view strips it
-- unless the link opted in.
ALTER TABLE share.campaigns ADD COLUMN forecast jsonb;
