"""Queries of runs and their items (sql/runs_*.sql)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from pulse_runtime.db import Connection, without_nul

from .repository import sql
from .run_rules import PostRef


@dataclass(frozen=True)
class RunItem:
    status: str
    post_id: UUID | None = None
    platform: str | None = None
    url: str | None = None
    item_index: int | None = None
    code: str | None = None
    message: str | None = None
    http_status: int | None = None
    tries: int | None = None


async def open_run(
    conn: Connection,
    *,
    run_id: UUID,
    org_id: UUID,
    source: str,
    name: str | None,
    execution_id: str | None,
    at: datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(sql.runs_open, run_id, org_id, source, name, execution_id, at)
    assert row is not None  # INSERT … RETURNING
    return row


async def count_items(
    conn: Connection,
    *,
    run_id: UUID,
    org_id: UUID,
    accepted: int,
    duplicates: int,
    rejected: int,
    provider_errors: int,
) -> bool:
    """False when the organization has no such run (the items themselves are stored anyway)."""
    found = await conn.fetchval(
        sql.runs_count_items, run_id, org_id, accepted, duplicates, rejected, provider_errors
    )
    return found is not None


async def insert_items(
    conn: Connection, *, run_id: UUID, kind: str, items: Sequence[RunItem], at: datetime
) -> None:
    if not items:
        return
    await conn.execute(
        sql.runs_insert_items,
        run_id,
        kind,
        at,
        [i.status for i in items],
        [i.post_id for i in items],
        [i.platform for i in items],
        [i.url for i in items],
        [i.item_index for i in items],
        [i.code for i in items],
        [without_nul(i.message) for i in items],
        [i.http_status for i in items],
        [i.tries for i in items],
    )


async def lock_run(conn: Connection, run_id: UUID, org_id: UUID) -> str | None:
    """The run's status, its row locked until the transaction ends; None if not the org's."""
    row = await conn.fetchrow(sql.runs_lock, run_id, org_id)
    return None if row is None else str(row["status"])


async def finish_run(
    conn: Connection,
    *,
    run_id: UUID,
    org_id: UUID,
    status: str,
    reason: str | None,
    execution_id: str | None,
    posts_ok: int,
    posts_failed: int,
    at: datetime,
    name: str | None = None,
) -> None:
    await conn.execute(
        sql.runs_finish,
        run_id,
        org_id,
        status,
        reason,
        execution_id,
        posts_ok,
        posts_failed,
        at,
        name,
    )


async def record_pulls(
    conn: Connection,
    *,
    run_id: UUID,
    org_id: UUID,
    status: str,
    name: str,
    started_at: datetime,
    ended_at: datetime,
    posts_ok: int,
    posts_failed: int,
    accepted: int,
    duplicates: int,
    rejected: int,
    provider_errors: int,
) -> bool:
    """False when this batch was recorded already."""
    done = await conn.execute(
        sql.runs_record_pulls,
        run_id,
        org_id,
        status,
        name,
        started_at,
        ended_at,
        posts_ok,
        posts_failed,
        accepted,
        duplicates,
        rejected,
        provider_errors,
    )
    return str(done).endswith(" 1")


async def time_out(conn: Connection, now: datetime, after: timedelta) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.runs_time_out, now, after))


async def get_run(conn: Connection, run_id: UUID, org_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(sql.runs_get, run_id, org_id)
    return row


async def list_runs(
    conn: Connection,
    *,
    org_id: UUID,
    limit: int,
    status: str | None,
    source: str | None,
    before: tuple[datetime, UUID] | None,
) -> list[asyncpg.Record]:
    started, run_id = before if before else (None, None)
    return list(await conn.fetch(sql.runs_list, org_id, limit, status, source, started, run_id))


async def run_items(conn: Connection, run_id: UUID, limit: int) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.runs_items, run_id, limit))


async def outcome_posts(
    conn: Connection, *, org_id: UUID, ids: list[UUID], urls: list[str], ppids: list[str]
) -> list[PostRef]:
    rows = await conn.fetch(sql.runs_outcome_posts, org_id, ids, urls, ppids)
    return [PostRef(*row) for row in rows]
