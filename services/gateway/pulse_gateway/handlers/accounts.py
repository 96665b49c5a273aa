"""Organizations, people and sign-in: passwords, sessions, sign-in links, rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from pulse_contracts import utcnow
from pulse_contracts.catalog import OrganizationUpserted
from pulse_runtime.errors import ApiError

from .. import mail
from ..db import auth_lookup, org_transaction, record
from ..deps import Principal
from ..repository import users as repo
from ..security import (
    Claims,
    JwtKeys,
    hash_password,
    issue_access_token,
    new_csrf_token,
    new_secret,
    sha256,
    verify_password,
)
from ..settings import GatewaySettings

EMAIL_LINK_TTL = timedelta(minutes=15)
FAILED_LOGIN = "wrong email or password"


@dataclass(frozen=True)
class SignedIn:
    user: dict[str, Any]
    session_token: str
    csrf_token: str
    access_token: str


async def create_organization(
    pool: asyncpg.Pool, *, name: str, owner_email: str, owner_password: str, is_test: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new agency with its first owner (the command line's `admin create-org`)."""
    org_id, user_id = uuid4(), uuid4()
    async with org_transaction(pool, org_id) as conn:
        org = await repo.insert_organization(
            conn, org_id=org_id, name=name, is_test=is_test, settings={}
        )
        user = await repo.insert_user(
            conn,
            org_id=org_id,
            user_id=user_id,
            email=owner_email,
            name="",
            role="owner",
            password_hash=hash_password(owner_password),
        )
        await record(
            conn,
            org_id=org_id,
            actor="system",
            action="create",
            entity="organization",
            entity_id=org_id,
            before=None,
            after=org,
            event=OrganizationUpserted(
                id=org_id, name=name, is_test=is_test, settings={}, updated_at=org["updated_at"]
            ),
        )
        await record(
            conn,
            org_id=org_id,
            actor="system",
            action="create",
            entity="user",
            entity_id=user_id,
            before=None,
            after=user,
            event=None,
        )
    return org, user


async def sign_in(
    pool: asyncpg.Pool,
    settings: GatewaySettings,
    keys: JwtKeys,
    *,
    email: str,
    password: str,
    address: str,
) -> SignedIn:
    """The same answer, in the same time, whether or not the email exists."""
    window = timedelta(minutes=settings.login_window_minutes)
    account_key, address_key = f"account:{email.lower()}", f"address:{address}"
    async with auth_lookup(pool) as conn:
        if (
            await repo.recent_failures(conn, account_key, window)
            >= settings.login_failures_per_account
            or await repo.recent_failures(conn, address_key, window)
            >= settings.login_failures_per_address
        ):
            raise ApiError(429, "too many failed sign-ins; try again in a few minutes")
        user = await repo.user_by_email(conn, email)
        ok = verify_password(user["password_hash"] if user else None, password)
        if not ok or user is None or user["disabled_at"] is not None:
            await repo.add_failures(conn, [account_key, address_key])
    if not ok or user is None or user["disabled_at"] is not None:
        raise ApiError(401, FAILED_LOGIN)
    async with auth_lookup(pool) as conn:
        await repo.clear_failures(conn, account_key)
    return await start_session(pool, settings, keys, user)


async def start_session(
    pool: asyncpg.Pool, settings: GatewaySettings, keys: JwtKeys, user: dict[str, Any]
) -> SignedIn:
    session_token, digest = new_secret()
    csrf = new_csrf_token()
    now = utcnow()
    async with org_transaction(pool, user["org_id"]) as conn:
        await repo.insert_session(
            conn,
            token_sha256=digest,
            user_id=user["id"],
            org_id=user["org_id"],
            csrf_token=csrf,
            expires_at=now + timedelta(days=settings.session_days),
        )
    access = issue_access_token(
        keys, Claims(user_id=user["id"], org_id=user["org_id"], role=user["role"]), now
    )
    public = {k: user[k] for k in ("id", "org_id", "email", "name", "role")}
    return SignedIn(user=public, session_token=session_token, csrf_token=csrf, access_token=access)


async def sign_out(pool: asyncpg.Pool, session_token: str | None) -> None:
    if session_token:
        async with pool.acquire() as conn:
            await repo.delete_session(conn, sha256(session_token))


async def send_email_link(pool: asyncpg.Pool, settings: GatewaySettings, email: str) -> None:
    """Mail a one-time sign-in link; unknown emails get the same answer and no mail."""
    async with auth_lookup(pool) as conn:
        user = await repo.user_by_email(conn, email)
        if user is None or user["disabled_at"] is not None:
            return
        token, digest = new_secret()
        await repo.insert_email_link(
            conn, token_sha256=digest, user_id=user["id"], expires_at=utcnow() + EMAIL_LINK_TTL
        )
    link = f"{settings.public_url}/api/auth/email-link/{token}"
    message = mail.compose(
        settings,
        to=user["email"],
        subject="Your Pulse sign-in link",
        text=f"Sign in to Pulse with this link (valid for 15 minutes, once):\n\n{link}\n\n"
        "If you did not ask for it, ignore this message.",
    )
    await mail.send(settings, message)


async def use_email_link(
    pool: asyncpg.Pool, settings: GatewaySettings, keys: JwtKeys, token: str
) -> SignedIn:
    async with auth_lookup(pool) as conn:
        user_id = await repo.use_email_link(conn, sha256(token))
        user = None
        if user_id is not None:
            user = await conn.fetchrow(
                "SELECT id, org_id, email, name, role, disabled_at "
                "FROM catalog.users WHERE id = $1",
                user_id,
            )
    if user is None or user["disabled_at"] is not None:
        raise ApiError(401, "this sign-in link is invalid, used or expired")
    return await start_session(pool, settings, keys, dict(user))


async def create_user(
    pool: asyncpg.Pool, caller: Principal | None, org_id: UUID, values: dict[str, Any]
) -> dict[str, Any]:
    password = values.pop("password", None)
    async with org_transaction(pool, org_id) as conn:
        try:
            # Emails are unique across organizations (sign-in names no organization).
            async with conn.transaction():
                row = await repo.insert_user(
                    conn,
                    org_id=org_id,
                    user_id=uuid4(),
                    password_hash=hash_password(password) if password else None,
                    **values,
                )
        except asyncpg.UniqueViolationError as exc:
            raise ApiError(409, f"{values['email']} already has a Pulse account") from exc
        await record(
            conn,
            org_id=org_id,
            actor=caller.actor if caller else "system",
            action="create",
            entity="user",
            entity_id=row["id"],
            before=None,
            after=row,
            event=None,
        )
    return row


async def update_user(
    pool: asyncpg.Pool, caller: Principal, user_id: UUID, changes: dict[str, Any]
) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_user(conn, org_id=caller.org_id, user_id=user_id)
        if before is None:
            raise ApiError(404, f"no user {user_id}")
        role = changes.get("role", before["role"])
        disabled = changes.get("disabled", before["disabled"])
        demoted = before["role"] == "owner" and (role != "owner" or disabled)
        if demoted and not await repo.other_active_owners(
            conn, org_id=caller.org_id, user_id=user_id
        ):
            raise ApiError(409, "an organization keeps at least one active owner")
        password = changes.get("password")
        row = await repo.update_user(
            conn,
            org_id=caller.org_id,
            user_id=user_id,
            name=changes.get("name", before["name"]),
            role=role,
            password_hash=hash_password(password) if password else None,
            disabled=bool(disabled),
        )
        if disabled:
            await conn.execute("DELETE FROM catalog.sessions WHERE user_id = $1", user_id)
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="update",
            entity="user",
            entity_id=user_id,
            before=before,
            after=row,
            event=None,
        )
    return row
