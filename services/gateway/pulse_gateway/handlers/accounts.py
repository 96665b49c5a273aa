"""Organizations, people and sign-in: passwords, sessions, sign-in links, rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal
from uuid import UUID, uuid4

import asyncpg
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from pulse_contracts import utcnow
from pulse_contracts.catalog import OrganizationUpserted
from pulse_runtime import passwords
from pulse_runtime.db import Connection
from pulse_runtime.errors import Conflict, NotFound, NotSignedIn, TooManyAttempts

from .. import mail
from ..db import auth_lookup, org_transaction, record
from ..deps import Principal
from ..repository import users as repo
from ..security import (
    Claims,
    JwtKeys,
    issue_access_token,
    new_csrf_token,
    new_secret,
    sha256,
    verify_password,
)
from ..sessions import SessionCache
from ..settings import GatewaySettings

RoleName = Literal["owner", "manager", "analyst"]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    name: str = Field(default="", max_length=200)
    role: RoleName
    password: str | None = Field(default=None, min_length=12, max_length=1000)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    role: RoleName | None = None
    password: str | None = Field(default=None, min_length=12, max_length=1000)
    disabled: bool | None = None


EMAIL_LINK_TTL = timedelta(minutes=15)
FAILED_LOGIN = "wrong email or password"
SIGN_IN_CHECKS = 2
TOO_MANY_SIGN_INS = "too many failed sign-ins; try again in a few minutes"


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
    password_hash = await _hashed(owner_password)
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
            password_hash=password_hash,
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

    async def limited(conn: Connection) -> bool:
        return (
            await repo.recent_failures(conn, account_key, window)
            >= settings.login_failures_per_account
            or await repo.recent_failures(conn, address_key, window)
            >= settings.login_failures_per_address
        )

    async with auth_lookup(pool) as conn:
        # Counting, checking the password and recording a failure are one step per account:
        # without the lock, parallel guesses all read the count before any failure was
        # written, and each got a real password check. Already limited: refused unlocked.
        if await limited(conn):
            raise TooManyAttempts(TOO_MANY_SIGN_INS)
        try:
            await repo.lock_account_sign_in(conn, account_key)
        except asyncpg.LockNotAvailableError as exc:
            raise TooManyAttempts(TOO_MANY_SIGN_INS) from exc
        if await limited(conn):
            raise TooManyAttempts(TOO_MANY_SIGN_INS)
        # argon2 costs tens of milliseconds of CPU: off the event loop, on the password
        # threads, which bound how many checks (and their memory) run at once.
        user = await passwords.run(
            _matching_account, await repo.users_by_email(conn, email), password
        )
        if user is None:
            await repo.add_failures(conn, [account_key, address_key])
    if user is None:
        raise NotSignedIn(FAILED_LOGIN)
    async with auth_lookup(pool) as conn:
        await repo.clear_failures(conn, account_key)
    if passwords.needs_rehash(user["password_hash"]):
        await _rehash(pool, user, password)
    return await start_session(pool, settings, keys, user)


async def _rehash(pool: asyncpg.Pool, user: dict[str, Any], password: str) -> None:
    """A hash made with older argon2 parameters (the 64 MiB default before session 9) is
    stored again with today's on the first sign-in that proves the password, so every later
    check costs today's memory. Not an edit of the person (no audit row, no updated_at), and
    only if the hash is still the one checked: a password changed meanwhile stays."""
    fresh = await passwords.run(passwords.hash_password, password)
    async with org_transaction(pool, user["org_id"]) as conn:
        await repo.replace_password_hash(
            conn,
            org_id=user["org_id"],
            user_id=user["id"],
            checked=user["password_hash"],
            fresh=fresh,
        )


def _matching_account(accounts: list[dict[str, Any]], password: str) -> dict[str, Any] | None:
    """The active account among the address's (one per organization that added it) whose
    password matches. Always at least SIGN_IN_CHECKS argon2 checks, dummies for the missing:
    a sign-in takes the same time whether the address is unknown, in one organization or in
    two, so its timing does not say that another organization knows the address."""
    found = None
    for i in range(max(SIGN_IN_CHECKS, len(accounts))):
        account = accounts[i] if i < len(accounts) else None
        ok = verify_password(account["password_hash"] if account else None, password)
        if ok and found is None and account is not None and account["disabled_at"] is None:
            found = account
    return found


async def start_session(
    pool: asyncpg.Pool, settings: GatewaySettings, keys: JwtKeys, user: dict[str, Any]
) -> SignedIn:
    session_token, digest = new_secret()
    csrf = new_csrf_token()
    now = utcnow()
    async with org_transaction(pool, user["org_id"]) as conn:
        session_id = await repo.insert_session(
            conn,
            token_sha256=digest,
            user_id=user["id"],
            org_id=user["org_id"],
            csrf_token=csrf,
            expires_at=now + timedelta(days=settings.session_days),
        )
    claims = Claims(
        user_id=user["id"], org_id=user["org_id"], role=user["role"], session_id=session_id
    )
    access = issue_access_token(keys, claims, now)
    public = {k: user[k] for k in ("id", "org_id", "email", "name", "role")}
    return SignedIn(user=public, session_token=session_token, csrf_token=csrf, access_token=access)


async def sign_out(
    pool: asyncpg.Pool,
    sessions: SessionCache,
    *,
    session_token: str | None,
    session_id: UUID | None = None,
) -> None:
    """Ends the session of the cookie and the one a JWT names: both stop working at once."""
    async with pool.acquire() as conn:
        if session_token:
            ended = await repo.delete_session(conn, sha256(session_token))
            if ended is not None:
                sessions.forget(session_id=ended)
        if session_id is not None:
            await repo.delete_session_by_id(conn, session_id)
            sessions.forget(session_id=session_id)


async def email_links(
    pool: asyncpg.Pool, settings: GatewaySettings, email: str, *, address: str
) -> list[EmailMessage] | None:
    """The sign-in link mails to send (none for an unknown email), or None when the client's
    address is over its limit. Each request counts against the email and the address whether
    or not the email exists, so the limits reveal nothing either."""
    window = timedelta(minutes=settings.login_window_minutes)
    email_key, address_key = f"email-link:{email.lower()}", f"email-link-from:{address}"
    async with auth_lookup(pool) as conn:
        if (
            await repo.recent_failures(conn, address_key, window)
            >= settings.email_links_per_address
        ):
            return None
        try:
            await repo.lock_account_sign_in(conn, email_key)
        except asyncpg.LockNotAvailableError:
            return []  # a flood for this one email: the same answer, no mail
        mailed_lately = await repo.recent_failures(conn, email_key, window)
        await repo.add_failures(conn, [email_key, address_key])
        if mailed_lately >= settings.email_links_per_account:
            return []  # the links already sent are still in the inbox
        links = []
        for user in await repo.users_by_email(conn, email):
            if user["disabled_at"] is None:
                token, digest = new_secret()
                await repo.insert_email_link(
                    conn,
                    token_sha256=digest,
                    user_id=user["id"],
                    expires_at=utcnow() + EMAIL_LINK_TTL,
                )
                links.append((user, token))
    # One mail per organization the address belongs to, each naming its organization.
    mails = []
    for user, token in links:
        async with org_transaction(pool, user["org_id"]) as conn:
            organization = await repo.organization_name(conn, user["org_id"])
        link = f"{settings.public_url}/api/auth/email-link/{token}"
        mails.append(
            mail.compose(
                settings,
                to=user["email"],
                subject=f"Your Pulse sign-in link for {organization}",
                text=f"Sign in to Pulse as a member of {organization} with this link "
                f"(valid for 15 minutes, once):\n\n{link}\n\n"
                "If you did not ask for it, ignore this message.",
            )
        )
    return mails


async def use_email_link(
    pool: asyncpg.Pool, settings: GatewaySettings, keys: JwtKeys, token: str
) -> SignedIn:
    async with auth_lookup(pool) as conn:
        user_id = await repo.use_email_link(conn, sha256(token))
        user = None
        if user_id is not None:
            user = await repo.user_by_id(conn, user_id)
    if user is None or user["disabled_at"] is not None:
        raise NotSignedIn("this sign-in link is invalid, used or expired")
    return await start_session(pool, settings, keys, user)


async def _hashed(password: str | None) -> str | None:
    """argon2 takes tens of milliseconds of CPU by design: off the event loop, so every other
    request keeps being served meanwhile, and before the transaction, so no connection waits."""
    return await passwords.run(passwords.hash_password, password) if password else None


async def create_user(
    pool: asyncpg.Pool, caller: Principal | None, org_id: UUID, values: dict[str, Any]
) -> dict[str, Any]:
    password_hash = await _hashed(values.pop("password", None))
    async with org_transaction(pool, org_id) as conn:
        try:
            # Unique within the organization; another organization may know the same address
            # and that is never revealed here (no existence oracle).
            async with conn.transaction():
                row = await repo.insert_user(
                    conn,
                    org_id=org_id,
                    user_id=uuid4(),
                    password_hash=password_hash,
                    **values,
                )
        except asyncpg.UniqueViolationError as exc:
            # Only this organization's own people can collide (migration 0005): saying so
            # tells the owner nothing they cannot already see in their list of people.
            raise Conflict(f"{values['email']} is already a member of your organization") from exc
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
    pool: asyncpg.Pool,
    sessions: SessionCache,
    caller: Principal,
    user_id: UUID,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """A changed password or a disabled person ends their sessions (and so their JWTs): a
    password is changed because someone else may know the old one. The owner changing their
    own password keeps the session they are using."""
    password = changes.get("password")
    password_hash = await _hashed(password)
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_user(conn, org_id=caller.org_id, user_id=user_id)
        if before is None:
            raise NotFound(f"no user {user_id}")
        role = changes.get("role", before["role"])
        disabled = changes.get("disabled", before["disabled"])
        demoted = before["role"] == "owner" and (role != "owner" or disabled)
        if demoted and not await repo.other_active_owners(
            conn, org_id=caller.org_id, user_id=user_id
        ):
            raise Conflict("an organization keeps at least one active owner")
        row = await repo.update_user(
            conn,
            org_id=caller.org_id,
            user_id=user_id,
            name=changes.get("name", before["name"]),
            role=role,
            password_hash=password_hash,
            disabled=bool(disabled),
        )
        if disabled:
            await repo.delete_sessions_of(conn, user_id=user_id, keep=None)
        elif password:
            keep = caller.session_id if caller.user_id == user_id else None
            await repo.delete_sessions_of(conn, user_id=user_id, keep=keep)
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
    # Here at once; on other replicas within the session cache's TTL (sessions.py). A role
    # change is dropped too, so the new role applies from the next request.
    sessions.forget(user_id=user_id)
    return row


async def forget_expired(pool: asyncpg.Pool, settings: GatewaySettings, now: datetime) -> int:
    """What sign-in no longer needs: expired sessions and links, and failed sign-ins older than
    the login window (the only period the limits count them in). Without it these tables grow
    with every sign-in and every guess, forever."""
    async with pool.acquire() as conn:
        return await repo.forget_expired(
            conn,
            now=now,
            failures_before=now - timedelta(minutes=settings.login_window_minutes),
        )
