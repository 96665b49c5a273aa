"""Comments: which posts' comments are due, their pulls, the comments and their counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from pulse_runtime.db import Connection, without_nul

from ..comments import ScoredComment
from .statements import sql


async def due_comments(
    conn: Connection, *, now: datetime, every: timedelta, limit: int
) -> list[asyncpg.Record]:
    """(id, org_id, command_id) of posts whose comments are due, oldest pull first."""
    return list(await conn.fetch(sql.due_comments, now, every, limit))


async def claim_comment_pulls(
    conn: Connection, org_id: UUID, post_ids: Sequence[UUID], *, now: datetime, every: timedelta
) -> list[asyncpg.Record]:
    """The posts among `post_ids` whose comments are due, stamped as checked at `now`."""
    if not post_ids:
        return []
    return list(await conn.fetch(sql.claim_comment_pulls, org_id, list(post_ids), now, every))


async def release_comment_claim(conn: Connection, post_id: UUID, claimed_at: datetime) -> None:
    await conn.execute(sql.release_comment_claim, post_id, claimed_at)


async def insert_comment_pull(
    conn: Connection,
    *,
    org_id: UUID,
    post_id: UUID,
    command_id: UUID,
    run: Any,
    pages: int,
    received: int,
    new_comments: int,
) -> None:
    """`run`: the provider's PullRun of the comments fetch."""
    await conn.execute(
        sql.insert_comment_pull,
        org_id,
        post_id,
        command_id,
        run.platform,
        run.status,
        run.http_status,
        run.latency_ms,
        run.credits,
        run.attempts,
        pages,
        received,
        new_comments,
        run.error_code,
        run.error,
        run.started_at,
    )


async def insert_comments(
    conn: Connection, post_id: UUID, at: datetime, comments: Sequence[ScoredComment]
) -> int:
    """Store the comments not seen before (scored), refresh the like counts of the others;
    returns how many were new."""
    if not comments:
        return 0
    # One order for every fetch, so concurrent fetches never deadlock on the primary key.
    ordered = sorted(comments, key=lambda c: c.comment_id)
    rows = await conn.fetch(
        sql.insert_comments,
        post_id,
        at,
        [c.comment_id for c in ordered],
        without_nul([c.text for c in ordered]),
        without_nul([c.author_handle for c in ordered]),
        [c.commented_at for c in ordered],
        [c.like_count for c in ordered],
        [c.sentiment.compound for c in ordered],
        [c.sentiment.label for c in ordered],
    )
    return sum(1 for row in rows if row["inserted"])


async def comment_counts(conn: Connection, post_id: UUID) -> asyncpg.Record:
    row = await conn.fetchrow(sql.comment_counts, post_id)
    assert row is not None  # an aggregate always answers one row
    return row


async def comment_summary(conn: Connection, org_id: UUID, post_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(sql.comment_summary, org_id, post_id)


async def post_comments(conn: Connection, post_id: UUID, limit: int) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.post_comments, post_id, limit))
