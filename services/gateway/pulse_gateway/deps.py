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
from .security import API_TOKEN_PREFIX, AuthError, Role, csrf_matches, sha256, verify_access_token

SESSION_COOKIE = "pulse_session"
CSRF_COOKIE = "pulse_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RANK: dict[str, int] = {"analyst": 1, "manager": 2, "owner": 3}


@dataclass(frozen=True)
class Principal:
    org_id: UUID
    role: Role
    user_id: UUID | None
    actor: str  # who the audit log names: "user:<id>" or "token:<id>"
    read_only: bool = False  # API tokens with the `read` scope


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
            return await _api_token(ctx, credential)
        try:
            claims = verify_access_token(ctx.jwt_keys, credential, utcnow())
        except AuthError as exc:
            raise ApiError(401, "invalid or expired bearer token") from exc
        return await _active_user(ctx, claims.user_id, claims.org_id)
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        raise ApiError(401, "sign in first: no session cookie or bearer token")
    row = await ctx.pool.fetchrow(
        "SELECT user_id, org_id, csrf_token FROM catalog.sessions "
        "WHERE token_sha256 = $1 AND expires_at > now()",
        sha256(session),
    )
    if row is None:
        raise ApiError(401, "session expired: sign in again")
    if request.method not in SAFE_METHODS and not csrf_matches(
        row["csrf_token"], request.headers.get(CSRF_HEADER)
    ):
        raise ApiError(403, "missing or wrong X-CSRF-Token header", code="csrf_failed")
    return await _active_user(ctx, row["user_id"], row["org_id"])


async def _active_user(ctx: GatewayContext, user_id: UUID, org_id: UUID) -> Principal:
    # One statement (migration 0004): checked on every request, so a disabled user or a
    # changed role takes effect on the very next one.
    role = await ctx.pool.fetchval("SELECT catalog.active_role($1, $2)", user_id, org_id)
    if role is None:
        raise ApiError(401, "this account is disabled or no longer exists")
    return Principal(org_id=org_id, role=role, user_id=user_id, actor=f"user:{user_id}")


async def _api_token(ctx: GatewayContext, token: str) -> Principal:
    digest = sha256(token)
    async with auth_lookup(ctx.pool) as conn:
        row = await conn.fetchrow(
            "SELECT id, org_id, scopes FROM catalog.api_tokens "
            "WHERE token_sha256 = $1 AND revoked_at IS NULL",
            digest,
        )
    if row is None or "read" not in row["scopes"]:
        raise ApiError(401, "unknown or revoked API token, or one without the `read` scope")
    async with org_transaction(ctx.pool, row["org_id"]) as conn:
        await conn.execute(
            "UPDATE catalog.api_tokens SET last_used_at = now() WHERE id = $1 "
            "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
            row["id"],
        )
    return Principal(
        org_id=row["org_id"],
        role="analyst",
        user_id=None,
        actor=f"token:{row['id']}",
        read_only=True,
    )


CallerDep = Annotated[Principal, Depends(authenticate)]


def require(minimum: Literal["analyst", "manager", "owner"]) -> object:
    """A dependency admitting people with at least `minimum`; read-only tokens read only."""

    async def check(request: Request, caller: CallerDep) -> Principal:
        if caller.read_only and request.method not in SAFE_METHODS:
            raise ApiError(403, "this API token may only read")
        if RANK[caller.role] < RANK[minimum]:
            raise ApiError(403, f"this needs the {minimum} role or higher; you are {caller.role}")
        return caller

    return Depends(check)


Reader = Annotated[Principal, require("analyst")]
Analyst = Reader  # resolving alerts: any person, never a read-only token
Manager = Annotated[Principal, require("manager")]
Owner = Annotated[Principal, require("owner")]
