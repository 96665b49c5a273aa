-- Every authenticated request asks for its user's role. As one function call that scopes
-- itself to the organization (for the statement's own transaction), that is one statement
-- instead of a transaction of four round trips.
CREATE FUNCTION catalog.active_role(p_user_id uuid, p_org_id uuid) RETURNS text
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    PERFORM set_config('pulse.org_id', p_org_id::text, true);
    RETURN (SELECT u.role FROM catalog.users AS u
            WHERE u.id = p_user_id AND u.org_id = p_org_id AND u.disabled_at IS NULL);
END
$$;
