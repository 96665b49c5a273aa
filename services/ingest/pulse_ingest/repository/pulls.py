"""Pulling: fetch targets, pull runs, each post's pull state, paused organizations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from pulse_runtime.db import Connection

from .statements import sql


async def mark_queued(conn: Connection, post_ids: Sequence[UUID], at: datetime) -> None:
    await conn.execute(sql.mark_queued, list(post_ids), at)


async def fetch_targets(
    conn: Connection, org_id: UUID, post_ids: Sequence[UUID]
) -> dict[UUID, asyncpg.Record]:
    rows = await conn.fetch(sql.fetch_targets, org_id, list(post_ids))
    return {row["id"]: row for row in rows}


async def org_paused(conn: Connection, org_id: UUID) -> bool:
    return bool(await conn.fetchval(sql.org_paused, org_id))


async def insert_pull_runs(
    conn: Connection,
    *,
    org_id: UUID,
    command_id: UUID,
    priority: str,
    reason: str,
    runs: Sequence[tuple[UUID, Any]],
) -> None:
    """`runs`: (post_id, provider PullRun) pairs."""
    if not runs:
        return
    await conn.execute(
        sql.insert_pull_runs,
        org_id,
        command_id,
        priority,
        reason,
        [post_id for post_id, _ in runs],
        [r.platform for _, r in runs],
        [r.status for _, r in runs],
        [r.http_status for _, r in runs],
        [r.latency_ms for _, r in runs],
        [r.credits for _, r in runs],
        [r.attempts for _, r in runs],
        [r.error_code for _, r in runs],
        [r.error for _, r in runs],
        [r.started_at for _, r in runs],
    )


async def record_success(conn: Connection, post_id: UUID, at: datetime) -> None:
    await conn.execute(sql.record_success, post_id, at)


async def record_failure(
    conn: Connection,
    post_id: UUID,
    *,
    at: datetime,
    error_code: str,
    error: str,
    not_found: bool,
    give_up_after: timedelta,
) -> asyncpg.Record | None:
    """(consecutive_failures, deleted_seen_at, deleted_at) after this failure."""
    return await conn.fetchrow(
        sql.record_failure, post_id, at, error_code, not_found, give_up_after, error
    )


async def record_skip(
    conn: Connection, post_ids: Sequence[UUID], error_code: str, error: str
) -> None:
    if post_ids:
        await conn.execute(sql.record_skip, list(post_ids), error_code, error)


async def clear_queued(conn: Connection, post_ids: Sequence[UUID]) -> None:
    if post_ids:
        await conn.execute(sql.clear_queued, list(post_ids))


async def pause_org(conn: Connection, org_id: UUID, at: datetime, reason: str) -> None:
    await conn.execute(sql.pause_org, org_id, at, reason)


async def resume_orgs(conn: Connection, org_ids: Sequence[UUID] | None, at: datetime) -> list[UUID]:
    rows = await conn.fetch(sql.resume_orgs, None if org_ids is None else list(org_ids), at)
    return [row["org_id"] for row in rows]


async def provider_state(conn: Connection, org_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(sql.provider_state, org_id)


async def any_paused(conn: Connection) -> bool:
    return bool(await conn.fetchval(sql.any_paused))


async def count_paused(conn: Connection) -> int:
    return int(await conn.fetchval(sql.count_paused))


async def scheduler_candidates(
    conn: Connection, *, now: datetime, min_interval: timedelta, queue_timeout: timedelta
) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.scheduler_candidates, now, min_interval, queue_timeout))


async def pull_status(conn: Connection, org_id: UUID, campaign_id: UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.pull_status, org_id, campaign_id))


async def pull_runs(
    conn: Connection, *, org_id: UUID, post_id: UUID, before_id: int, limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.pull_runs, org_id, post_id, before_id, limit))


async def manual_target(conn: Connection, org_id: UUID, post_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(sql.manual_target, org_id, post_id)


async def command_handled(conn: Connection, event_id: UUID) -> bool:
    """Whether a fetch command is in the inbox already (a redelivery)."""
    return bool(await conn.fetchval(sql.command_handled, event_id))


async def scheduler_lock(conn: Connection, key: int) -> bool:
    """The refresh scheduler's advisory lock, if no other replica holds it."""
    return bool(await conn.fetchval(sql.scheduler_lock, key))


async def scheduler_unlock(conn: Connection, key: int) -> None:
    await conn.execute(sql.scheduler_unlock, key)
