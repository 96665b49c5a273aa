"""Tenant-scoped transactions: every catalog statement runs with `pulse.org_id` set.

Row-level security on the catalog tables reads that setting, so a query that forgot its
organization filter still sees only the caller's organization.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from pulse_contracts import Envelope, EventData, make_event
from pulse_runtime.db import Connection
from pulse_runtime.errors import ApiError
from pulse_runtime.logging import current_correlation_id
from pulse_runtime.outbox import add_to_outbox

from .repository import sql

SCHEMA = "catalog"
PRODUCER = "gateway"


@asynccontextmanager
async def org_transaction(pool: asyncpg.Pool, org_id: UUID) -> AsyncIterator[Connection]:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(sql.tenant_org, str(org_id))
        yield conn


@asynccontextmanager
async def org_read(pool: asyncpg.Pool, org_id: UUID) -> AsyncIterator[Connection]:
    """A read-only org_transaction in one round trip fewer: BEGIN and the tenant setting go
    together as one simple-protocol statement (a parameter would need a second round trip),
    then the reads, then COMMIT. Repeatable read, so several reads see one snapshot.

    The organization id is interpolated only after `UUID()` parsed it: a UUID's text is hex
    and dashes, nothing that can close the quoted literal."""
    org = UUID(str(org_id))
    async with pool.acquire() as conn:
        await conn.execute(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
            f" SELECT set_config('pulse.org_id', '{org}', true)"
        )
        try:
            yield conn
        except BaseException:
            # A connection left mid-statement (a cancelled request) cannot run this; the
            # pool then resets or discards it on release, as for asyncpg's own transactions.
            with suppress(Exception):
                await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")


@asynccontextmanager
async def auth_lookup(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    """The one place a user is read before the organization is known: sign-in."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(sql.tenant_auth_lookup)
        yield conn


async def record(
    conn: Connection,
    *,
    org_id: UUID,
    actor: str,
    action: str,
    entity: str,
    entity_id: UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    event: EventData | None,
    routing_key: str | None = None,
) -> None:
    """The audit row and the catalog event of one write, in the write's own transaction."""
    await conn.execute(
        sql.audit_log_insert,
        org_id,
        actor,
        action,
        entity,
        entity_id,
        _jsonable(before),
        _jsonable(after),
        current_correlation_id(),
    )
    if event is not None:
        envelope: Envelope[Any] = make_event(
            event, org_id=org_id, producer=PRODUCER, correlation_id=current_correlation_id()
        )
        await add_to_outbox(conn, SCHEMA, envelope, routing_key=routing_key)


def _jsonable(row: dict[str, Any] | None) -> Any:
    if row is None:
        return None
    secret_free = {k: v for k, v in row.items() if k not in ("password_hash", "token_sha256")}
    return json.loads(json.dumps(secret_free, default=str))


def encode_cursor(at: datetime, row_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    if not cursor:
        return None
    try:
        at, _, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), UUID(row_id)
    except ValueError as exc:
        raise ApiError(
            422, "cursor is not one this API returned", details=[{"path": "cursor"}]
        ) from exc


async def listed(
    pool: asyncpg.Pool,
    org_id: UUID,
    fetch: Callable[..., Awaitable[list[dict[str, Any]]]],
    *,
    cursor: str | None,
    limit: int,
    **filters: Any,
) -> dict[str, Any]:
    """One keyset page of the organization's rows: `fetch(conn, org_id=, after=, limit=,
    **filters)` is a repository list function, asked for one row more than the page holds."""
    async with org_transaction(pool, org_id) as conn:
        rows = await fetch(
            conn, org_id=org_id, after=decode_cursor(cursor), limit=limit + 1, **filters
        )
    return page(rows, limit)


def page(items: list[dict[str, Any]], limit: int, key: str = "created_at") -> dict[str, Any]:
    """`{"items", "next_cursor"}` for a keyset page fetched with limit + 1 rows."""
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor(items[-1][key], items[-1]["id"]) if more and items else None
    return {"items": items, "next_cursor": next_cursor}
