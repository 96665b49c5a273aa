-- AMQP messages refused for their x-pulse-key are kept with no organization (rejected_items
-- with org_id NULL); the operator view reads them newest first without scanning every tenant's
-- rejections.
CREATE INDEX rejected_items_without_org ON ingest.rejected_items (id DESC) WHERE org_id IS NULL;
