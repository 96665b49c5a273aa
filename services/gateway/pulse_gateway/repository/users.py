"""Organizations, the people in them, their sessions and sign-in bookkeeping."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pulse_runtime.db import Connection

from . import sql


async def insert_organization(
    conn: Connection, *, org_id: UUID, name: str, is_test: bool, settings: dict[str, Any]
) -> dict[str, Any]:
    row = await conn.fetchrow(sql.organizations_insert, org_id, name, is_test, settings)
    assert row is not None
    return dict(row)


async def users_by_email(conn: Connection, email: str) -> list[dict[str, Any]]:
    """Only inside `db.auth_lookup`: sign-in, before the organization is known. One account
    per organization that added the address, oldest first."""
    return [dict(r) for r in await conn.fetch(sql.users_by_email, email)]


async def list_users(
    conn: Connection, *, org_id: UUID, after: tuple[datetime, UUID] | None, limit: int
) -> list[dict[str, Any]]:
    at, last = after or (None, None)
    return [dict(r) for r in await conn.fetch(sql.users_list, org_id, at, last, limit)]


async def get_user(conn: Connection, *, org_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql.users_get, org_id, user_id)
    return dict(row) if row else None


async def insert_user(
    conn: Connection,
    *,
    org_id: UUID,
    user_id: UUID,
    email: str,
    name: str,
    role: str,
    password_hash: str | None,
) -> dict[str, Any]:
    row = await conn.fetchrow(sql.users_insert, user_id, org_id, email, name, role, password_hash)
    assert row is not None
    return dict(row)


async def update_user(
    conn: Connection,
    *,
    org_id: UUID,
    user_id: UUID,
    name: str,
    role: str,
    password_hash: str | None,
    disabled: bool,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        sql.users_update, org_id, user_id, name, role, password_hash, disabled
    )
    assert row is not None
    return dict(row)


async def other_active_owners(conn: Connection, *, org_id: UUID, user_id: UUID) -> int:
    return int(await conn.fetchval(sql.users_count_owners, org_id, user_id))


async def replace_password_hash(
    conn: Connection, *, org_id: UUID, user_id: UUID, checked: str, fresh: str
) -> None:
    """The same password's hash made again with today's parameters, unless it changed since
    it was checked."""
    await conn.execute(sql.users_replace_password_hash, org_id, user_id, checked, fresh)


async def user_by_id(conn: Connection, user_id: UUID) -> dict[str, Any] | None:
    """Only inside `db.auth_lookup`: a sign-in link names the person, not the organization."""
    row = await conn.fetchrow(sql.users_by_id, user_id)
    return dict(row) if row else None


async def viewer(conn: Connection, *, org_id: UUID, user_id: UUID | None) -> dict[str, Any] | None:
    """The signed-in person's email and name and their organization's name, for the page
    header; None once they are disabled."""
    row = await conn.fetchrow(sql.users_viewer, org_id, user_id)
    return dict(row) if row else None


async def session_caller(
    conn: Connection, *, session_id: UUID | None, token_sha256: bytes | None
) -> dict[str, Any] | None:
    """The live session's person (catalog.session_caller), by session id or cookie hash."""
    row = await conn.fetchrow(sql.session_caller, session_id, token_sha256)
    return dict(row) if row else None


async def session_csrf(conn: Connection, token_sha256: bytes) -> str | None:
    """The CSRF token of a live session, by the cookie's hash."""
    token: str | None = await conn.fetchval(sql.session_csrf, token_sha256)
    return token


async def insert_session(
    conn: Connection,
    *,
    token_sha256: bytes,
    user_id: UUID,
    org_id: UUID,
    csrf_token: str,
    expires_at: datetime,
) -> UUID:
    """The new session's id: the `sid` of the JWT issued with it."""
    session_id: UUID = await conn.fetchval(
        sql.sessions_insert, token_sha256, user_id, org_id, csrf_token, expires_at
    )
    return session_id


async def delete_session(conn: Connection, token_sha256: bytes) -> UUID | None:
    ended: UUID | None = await conn.fetchval(sql.sessions_delete, token_sha256)
    return ended


async def delete_session_by_id(conn: Connection, session_id: UUID) -> None:
    await conn.execute(sql.sessions_delete_by_id, session_id)


async def delete_sessions_of(conn: Connection, *, user_id: UUID, keep: UUID | None) -> None:
    """Every session of the person but `keep`."""
    await conn.execute(
        sql.sessions_delete_of_user,
        user_id,
        keep,
    )


async def lock_account_sign_in(conn: Connection, key: str) -> None:
    """Serialize sign-in attempts on one key for the rest of the transaction (an advisory lock
    on the key's hash). Waits at most a few seconds: a queue that long is an attack."""
    await conn.execute(sql.sign_in_lock_timeout)
    await conn.execute(sql.sign_in_lock, key)


async def recent_failures(conn: Connection, key: str, window: timedelta) -> int:
    return int(await conn.fetchval(sql.login_failures_count, key, window))


async def add_failures(conn: Connection, keys: list[str]) -> None:
    await conn.executemany(sql.login_failures_insert, [(k,) for k in keys])


async def clear_failures(conn: Connection, key: str) -> None:
    await conn.execute(sql.login_failures_clear, key)


async def insert_email_link(
    conn: Connection, *, token_sha256: bytes, user_id: UUID, expires_at: datetime
) -> None:
    await conn.execute(
        sql.email_links_insert,
        token_sha256,
        user_id,
        expires_at,
    )


async def use_email_link(conn: Connection, token_sha256: bytes) -> UUID | None:
    """The link's user, once: a second use finds it already used."""
    user_id: UUID | None = await conn.fetchval(
        sql.email_links_use,
        token_sha256,
    )
    return user_id


async def organization_name(conn: Connection, org_id: UUID) -> str:
    name: str = await conn.fetchval(sql.organizations_name, org_id)
    return name


async def forget_expired(conn: Connection, *, now: datetime, failures_before: datetime) -> int:
    """Sessions and sign-in links past their expiry (no longer accepted anyway) and failed
    sign-ins older than any window that counts them. Returns the rows removed."""
    removed = 0
    for statement, moment in (
        (sql.sessions_delete_expired, now),
        (sql.email_links_delete_expired, now),
        (sql.login_failures_delete_before, failures_before),
    ):
        status = await conn.execute(statement, moment)
        removed += int(status.rsplit(" ", 1)[-1])
    return removed
