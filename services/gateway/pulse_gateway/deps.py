"""Who is calling, and may they: one dependency per route family, defined once.

Browsers authenticate with the session cookie (and a CSRF token on unsafe methods); API
clients with `Authorization: Bearer` carrying a JWT or a `pulse_` API token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import Depends, Request

from pulse_contracts import utcnow
from pulse_runtime.errors import ApiError

from .context import GatewayContext
from .db import auth_lookup, org_transaction
from .repository import tokens
from .security import API_TOKEN_PREFIX, AuthError, Role, csrf_matches, sha256, verify_access_token
from .sessions import SessionCaller, session_caller

SESSION_COOKIE = "pulse_session"
CSRF_COOKIE = "pulse_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RANK: dict[str, int] = {"analyst": 1, "manager": 2, "owner": 3}


@dataclass(frozen=True)
class Credential:
    """What the caller presented, kept so a long-lived stream can ask again later."""

    session_id: UUID | None = None  # a session: by its id (JWT `sid`) ...
    session_sha256: bytes | None = None  # ... or by the cookie's hash
    token_sha256: bytes | None = None  # an API token


@dataclass(frozen=True)
class Principal:
    org_id: UUID
    role: Role
    user_id: UUID | None
    actor: str  # who the audit log names: "user:<id>" or "token:<id>"
    read_only: bool = False  # API tokens with the `read` scope
    session_id: UUID | None = None  # the session behind a cookie or a JWT
    credential: Credential = Credential()


def gateway_context(request: Request) -> GatewayContext:
    ctx: GatewayContext = request.app.state.gateway
    return ctx


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def`
# dependency in a worker thread, a thread hop on every request for nothing.
async def context(request: Request) -> GatewayContext:
    return gateway_context(request)


ContextDep = Annotated[GatewayContext, Depends(context)]


async def pool(ctx: ContextDep) -> asyncpg.Pool:
    return ctx.pool


PoolDep = Annotated[asyncpg.Pool, Depends(pool)]


async def authenticate(request: Request, ctx: ContextDep) -> Principal:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        credential = header[7:].strip()
        if credential.startswith(API_TOKEN_PREFIX):
            return await _api_token(ctx, sha256(credential))
        try:
            claims = verify_access_token(ctx.jwt_keys, credential, utcnow())
        except AuthError as exc:
            raise ApiError(401, "invalid or expired bearer token") from exc
        found = await session_caller(ctx.pool, ctx.sessions, session_id=claims.session_id)
        if found is None or (found.user_id, found.org_id) != (claims.user_id, claims.org_id):
            raise ApiError(401, "this token's session has ended: sign in again")
        return _person(found, Credential(session_id=found.session_id))
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        raise ApiError(401, "sign in first: no session cookie or bearer token")
    digest = sha256(session)
    found = await session_caller(ctx.pool, ctx.sessions, token_sha256=digest)
    if found is None:
        raise ApiError(401, "session expired: sign in again")
    if request.method not in SAFE_METHODS and not csrf_matches(
        found.csrf_token, request.headers.get(CSRF_HEADER)
    ):
        raise ApiError(403, "missing or wrong X-CSRF-Token header", code="csrf_failed")
    return _person(found, Credential(session_sha256=digest))


async def authenticate_again(ctx: GatewayContext, caller: Principal) -> Principal | None:
    """The caller as the database sees them now, skipping every cache; None when their
    credential has ended (signed out, password changed, disabled, token revoked)."""
    credential = caller.credential
    if credential.token_sha256 is not None:
        try:
            return await _api_token(ctx, credential.token_sha256, touch=False)
        except ApiError:
            return None
    found = await session_caller(
        ctx.pool,
        ctx.sessions,
        session_id=credential.session_id,
        token_sha256=credential.session_sha256,
        fresh=True,
    )
    return _person(found, credential) if found is not None else None


def _person(found: SessionCaller, credential: Credential) -> Principal:
    # The role is the database's, read with the session (migration 0005), never the JWT's:
    # a changed role or a disabled person takes effect with the session check.
    return Principal(
        org_id=found.org_id,
        role=found.role,
        user_id=found.user_id,
        actor=f"user:{found.user_id}",
        session_id=found.session_id,
        credential=credential,
    )


async def _api_token(ctx: GatewayContext, digest: bytes, *, touch: bool = True) -> Principal:
    async with auth_lookup(ctx.pool) as conn:
        row = await tokens.token_by_hash(conn, digest)
    if row is None or "read" not in row["scopes"]:
        raise ApiError(401, "unknown or revoked API token, or one without the `read` scope")
    if touch:
        async with org_transaction(ctx.pool, row["org_id"]) as conn:
            await tokens.touch_token(conn, row["id"])
    return Principal(
        org_id=row["org_id"],
        role="analyst",
        user_id=None,
        actor=f"token:{row['id']}",
        read_only=True,
        credential=Credential(token_sha256=digest),
    )


async def counted(request: Request) -> Principal:
    """The caller, once this request is counted in their API rate limit (rate_limits.py)."""
    return await _caller(request, count=True)


async def uncounted(request: Request) -> Principal:
    return await _caller(request, count=False)


CallerDep = Annotated[Principal, Depends(counted)]
UncountedCaller = Annotated[Principal, Depends(uncounted)]


def require(minimum: Literal["analyst", "manager", "owner"], *, count: bool = True) -> object:
    """A dependency admitting people with at least `minimum`; read-only tokens read only.
    `count=False` for the routes the API rate limit leaves alone (rate_limits.py names them).

    One dependency taking only the request, rather than a chain (check → counted →
    authenticate → context): FastAPI solves each link of a chain on every request, which cost
    more than the checks themselves. The caller is resolved once per request (and counted
    once) even when a route's dependencies ask for it twice, as FastAPI's per-request cache
    of the chain did."""
    rank = RANK[minimum]

    async def check(request: Request) -> Principal:
        caller = await _caller(request, count=count)
        if caller.read_only and request.method not in SAFE_METHODS:
            raise ApiError(403, "this API token may only read")
        if RANK[caller.role] < rank:
            raise ApiError(403, f"this needs the {minimum} role or higher; you are {caller.role}")
        return caller

    return Depends(check)


async def _caller(request: Request, *, count: bool) -> Principal:
    state = request.state
    caller: Principal | None = getattr(state, "pulse_caller", None)
    if caller is None:
        ctx = gateway_context(request)
        caller = await authenticate(request, ctx)
        state.pulse_caller = caller
    if count and not getattr(state, "pulse_counted", False):
        ctx = gateway_context(request)
        if ctx.limits is not None:
            await ctx.limits.count(ctx.pool, request, caller.org_id, caller.user_id, caller.actor)
        state.pulse_counted = True
    return caller


Reader = Annotated[Principal, require("analyst")]
Analyst = Reader  # resolving alerts: any person, never a read-only token
Manager = Annotated[Principal, require("manager")]
Owner = Annotated[Principal, require("owner")]
UncountedReader = Annotated[Principal, require("analyst", count=False)]
