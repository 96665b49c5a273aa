"""Items and what became of them: ingest tokens, tracked posts, samples, rejections."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from pulse_runtime.db import Connection, without_nul
from pulse_runtime.logging import get_logger

from ..domain import SOURCE_CODES, Match, Rejection, TrackedPost
from .statements import sql

log = get_logger(__name__)
# A batch meets at most one move per month it holds; months move one at a time, each in a
# short transaction, so a few attempts cover a batch spanning several backfilled months.
MONTH_MOVE_ATTEMPTS = 5


async def find_token(conn: Connection, *, token_sha256: bytes) -> tuple[UUID, UUID] | None:
    """(token id, organization id) of a valid ingest token, and its last use recorded (the SQL
    writes at most once a minute; the token cache asks at most once per TTL)."""
    row = await conn.fetchrow(sql.find_token, token_sha256)
    if row is None:
        return None
    await conn.execute(sql.touch_token, token_sha256)
    return row["id"], row["org_id"]


async def load_posts(
    conn: Connection, *, org_id: UUID, ids: list[UUID], ppids: list[str], urls: list[str]
) -> list[TrackedPost]:
    rows = await conn.fetch(sql.load_posts, org_id, ids, ppids, urls)
    return [TrackedPost._make(row) for row in rows]


async def insert_samples(
    conn: Connection, *, matches: Sequence[Match], source: str
) -> set[tuple[int, datetime]]:
    """Insert new samples; returns the (post_key, observed_at) actually stored (not duplicates)."""
    # One order for every batch, so concurrent batches never deadlock on the unique index.
    ordered = sorted(matches, key=lambda m: (m.post.key, m.candidate.observed_at))
    counters = [m.candidate.metrics for m in ordered]
    code = SOURCE_CODES[source]
    columns = (
        [m.post.key for m in ordered],
        [m.candidate.observed_at for m in ordered],
        [c.views for c in counters],
        [c.likes for c in counters],
        [c.comments for c in counters],
        [c.shares for c in counters],
        [c.saves for c in counters],
        [c.reach for c in counters],
        [code] * len(ordered),
        [m.candidate.estimated for m in ordered],
    )
    attempt = 1
    while True:
        try:
            # A savepoint, so that a batch a month's move turned away can try again within
            # the caller's transaction (its rejections, post.pulled and run counts stay).
            async with conn.transaction():
                rows = await conn.fetch(sql.insert_samples, *columns)
            return {(row[0], row[1]) for row in rows}
        except asyncpg.CheckViolationError as exc:
            # Routed to samples_default by a partition layout read just before a month of it
            # got its own partition (ingest.add_sample_month, migration 0008): PostgreSQL
            # checks the default's new bounds once the move commits and refuses the row. The
            # next attempt reads the new layout and lands in the month's partition.
            if exc.table_name != "samples_default" or attempt == MONTH_MOVE_ATTEMPTS:
                raise
            log.info("samples batch routed again after a month's move", attempt=attempt)
            attempt += 1


async def update_post_facts(
    conn: Connection, facts: Sequence[tuple[UUID, datetime | None, str | None, str | None]]
) -> list[asyncpg.Record]:
    if not facts:
        return []
    ids, posted, captions, thumbs = (list(col) for col in zip(*facts, strict=True))
    captions, thumbs = without_nul(captions), without_nul(thumbs)
    return list(await conn.fetch(sql.update_post_facts, ids, posted, captions, thumbs))


async def insert_rejections(
    conn: Connection, *, org_id: UUID | None, channel: str, rejections: Sequence[Rejection]
) -> None:
    if not rejections:
        return
    await conn.execute(
        sql.insert_rejections,
        org_id,
        channel,
        [r.index for r in rejections],
        [r.code for r in rejections],
        [without_nul(r.message) for r in rejections],
        [_as_json(r.raw) for r in rejections],
    )


def _as_json(raw: Any) -> Any:
    # Anything that arrived is kept: what jsonb cannot hold as a value (an out-of-range number
    # that parsed as Infinity, anything too deep) is kept as its text, NUL as U+FFFD.
    try:
        json.dumps(raw, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return {"unparsed": without_nul(repr(raw)[:100_000])}
    return without_nul(raw)


async def sample_history(
    conn: Connection, *, org_id: UUID, post_id: UUID, after: datetime, limit: int
) -> list[asyncpg.Record]:
    """A page of a post's samples, in a read-only transaction of its own (the caller must not
    hold one open).

    Repeatable read, so that a page never misses a month whose rows are moving out of
    samples_default (migration 0008): a read-committed query can pair the partition layout
    from before the move with a snapshot taken after it, and then sees the month's rows in
    neither place. Here the snapshot is taken before the layout is read, so the page sees the
    rows where the snapshot has them."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return list(await conn.fetch(sql.sample_history, post_id, org_id, after, limit))


async def rejected_items(
    conn: Connection, *, org_id: UUID, before_id: int, limit: int, code: str | None = None
) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.rejected_items, org_id, before_id, limit, code))


async def refused_summary(conn: Connection, *, since: datetime) -> asyncpg.Record:
    """Messages kept with no organization (a missing or unknown x-pulse-key): all of them,
    those received after `since`, and the newest one's time."""
    row = await conn.fetchrow(sql.refused_summary, since)
    assert row is not None  # an aggregate always returns its row
    return row


async def refused_messages(conn: Connection, *, limit: int, raw_chars: int) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.refused_messages, limit, raw_chars))
