-- Alerts set aside for a while from the triage list (/alerts, "Snooze"). The alerter still
-- owns every alert and keeps raising, escalating and notifying; the gateway only remembers
-- until when its list leaves one out, so a snooze never hides an alert from anyone for good.

CREATE TABLE catalog.alert_snoozes (
    org_id      uuid        NOT NULL REFERENCES catalog.organizations (id),
    alert_id    uuid        NOT NULL,
    until       timestamptz NOT NULL,
    snoozed_by  uuid,
    snoozed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, alert_id)
);

ALTER TABLE catalog.alert_snoozes ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog.alert_snoozes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON catalog.alert_snoozes USING (org_id = catalog.current_org())
    WITH CHECK (org_id = catalog.current_org());
