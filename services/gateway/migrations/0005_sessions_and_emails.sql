-- Every bearer JWT names the session it was issued with (its `sid` claim), so signing out,
-- a password change or disabling a person ends the JWT too: the session row is the one
-- thing that is revoked, whether the caller presents the cookie or the JWT.
ALTER TABLE catalog.sessions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX sessions_id ON catalog.sessions (id);
CREATE INDEX sessions_user ON catalog.sessions (user_id);

-- Who a live session is, by its id (JWT) or by the cookie's hash, in one statement: the
-- session, then its person if still active, scoped to the session's organization for the
-- statement's own transaction (like catalog.active_role). No row: signed out, expired,
-- disabled or gone.
CREATE FUNCTION catalog.session_caller(p_session_id uuid, p_token_sha256 bytea)
    RETURNS TABLE (session_id uuid, user_id uuid, org_id uuid, role text, csrf_token text)
    LANGUAGE plpgsql VOLATILE
    AS $$
#variable_conflict use_column
DECLARE
    found_session catalog.sessions%ROWTYPE;
BEGIN
    IF p_session_id IS NOT NULL THEN
        SELECT * INTO found_session FROM catalog.sessions AS s
        WHERE s.id = p_session_id AND s.expires_at > now();
    ELSE
        SELECT * INTO found_session FROM catalog.sessions AS s
        WHERE s.token_sha256 = p_token_sha256 AND s.expires_at > now();
    END IF;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM set_config('pulse.org_id', found_session.org_id::text, true);
    RETURN QUERY
        SELECT found_session.id, u.id, u.org_id, u.role, found_session.csrf_token
        FROM catalog.users AS u
        WHERE u.id = found_session.user_id AND u.org_id = found_session.org_id
          AND u.disabled_at IS NULL;
END
$$;

-- An email is unique within an organization, no longer across them. Refusing an address
-- because another organization has it told a stranger that the address is a customer's; now
-- the same person may hold an account in each organization that adds them, and sign-in finds
-- the one whose password matches (handlers/accounts.py).
DROP INDEX catalog.users_email;
CREATE UNIQUE INDEX users_org_email ON catalog.users (org_id, lower(email));
CREATE INDEX users_email ON catalog.users (lower(email));
