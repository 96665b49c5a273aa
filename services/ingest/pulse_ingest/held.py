"""Kept items, applied later: items held as `unknown_post` when their post is registered
within 24 hours, and an operator's replay of rejected items once the cause is fixed.

Why held: a post registered through the gateway and sampled a moment later can reach ingest
before the registration event does (seen about half the time in an outside test), and the
sample used to stay rejected. Now the registration applies it, in the same transaction.

A replayed item goes through exactly the rules of a new one (handlers.store_items). Stored, or
already stored, it is resolved; still refused, it stays kept with the new reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from pulse_contracts.catalog import PostRegistered
from pulse_contracts.post_urls import PostUrlError, parse_post_url
from pulse_runtime.db import Connection
from pulse_runtime.logging import get_logger

from .domain import Rejection
from .repository import sql

log = get_logger(__name__)

CHANNELS = ("http", "amqp", "import", "provider")


class Stored(Protocol):
    @property
    def rejected(self) -> list[Rejection]: ...


class StoreItems(Protocol):
    """handlers.store_items (passed in: handlers calls this module)."""

    def __call__(
        self,
        conn: Connection,
        *,
        org_id: UUID,
        items: list[Any],
        source: Any,
        now: datetime,
        correlation_id: str,
        keep_rejections: bool = True,
    ) -> Awaitable[Stored]: ...


@dataclass
class Replayed:
    """Ids of the kept items now stored (or found already stored), and of those still refused
    with their new code and message."""

    applied: list[int] = field(default_factory=list)
    still_rejected: list[tuple[int, str, str]] = field(default_factory=list)

    def as_response(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "still_rejected": [
                {"id": i, "code": code, "message": message}
                for i, code, message in self.still_rejected
            ],
        }


async def apply_held(
    conn: Connection, *, org_id: UUID, post: PostRegistered, now: datetime, store: StoreItems
) -> Replayed:
    """The held items that name this newly registered post, applied in the caller's
    transaction."""
    ppid = post.platform_post_id
    if ppid is None:
        try:
            ppid = parse_post_url(post.url).platform_post_id
        except PostUrlError:
            ppid = None
    rows = await conn.fetch(sql.held_for_post, org_id, now, post.url, ppid, str(post.id))
    done = await _replay(conn, org_id, rows, now, store, correlation_id=f"held:{post.id}")
    if done.applied:
        log.info("held items applied", post_id=str(post.id), items=len(done.applied))
    return done


async def replay(
    conn: Connection, *, org_id: UUID, ids: Sequence[int], now: datetime, store: StoreItems
) -> Replayed:
    """An operator's replay of kept items (already resolved ones are skipped)."""
    rows = await conn.fetch(sql.rejected_by_ids, org_id, list(ids))
    return await _replay(conn, org_id, rows, now, store, correlation_id="replay")


async def _replay(
    conn: Connection,
    org_id: UUID,
    rows: Sequence[asyncpg.Record],
    now: datetime,
    store: StoreItems,
    *,
    correlation_id: str,
) -> Replayed:
    done = Replayed()
    for channel, group in groupby(rows, key=lambda r: r["channel"]):
        kept = list(group)
        result = await store(
            conn,
            org_id=org_id,
            items=[r["raw"] for r in kept],
            source=channel if channel in CHANNELS else "import",
            now=now,
            correlation_id=correlation_id,
            keep_rejections=False,
        )
        refused = {r.index: r for r in result.rejected}
        for position, row in enumerate(kept):
            rejection = refused.get(position)
            if rejection is None:
                done.applied.append(row["id"])
            else:
                done.still_rejected.append((row["id"], rejection.code, rejection.message))
    if done.applied:
        await conn.execute(sql.resolve_rejected, done.applied, now)
    if done.still_rejected:
        await conn.execute(
            sql.rejudge_rejected,
            [i for i, _, _ in done.still_rejected],
            [c for _, c, _ in done.still_rejected],
            [m for _, _, m in done.still_rejected],
        )
    return done
