-- The PDF report is a surface of its own in the access log.
ALTER TABLE share.access_log
    DROP CONSTRAINT access_log_surface_check,
    ADD CONSTRAINT access_log_surface_check
        CHECK (surface IN ('page', 'json', 'pdf', 'unlock'));
