"""Benchmark accounts (docs/insights.md): ingest's copy of them, their daily pulls through the
provider client, and each account's rollup, written by the pull that changed it.

Benchmark pulls are the least urgent work ingest does: one account at a time per replica,
each call after high-priority fetches have had their turn and while no scheduled refresh of a
booked post waits on the low queue, behind a breaker of their own (`platform:benchmarks`), and
every call logged as a pull run (reason `benchmark`), so they count against credits like any
pull. An organization paused for credits, or flagged as a test, is never pulled.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Query

from pulse_contracts import Envelope, EventData
from pulse_contracts.benchmarks import BenchmarkAccountRemoved, BenchmarkAccountUpserted
from pulse_contracts.internal.ingest import BenchmarkAccounts, TopTags
from pulse_contracts.numbers import engagement_rate
from pulse_runtime.db import Connection, PoolGetter
from pulse_runtime.errors import ApiError
from pulse_runtime.http import internal_router
from pulse_runtime.inbox import first_delivery
from pulse_runtime.logging import get_logger

from . import repository
from .benchmark_domain import (
    ENDPOINTS,
    MAX_PAGES,
    PRIVATE,
    UNKNOWN_HANDLE,
    WINDOW,
    BenchmarkPost,
    DayRecord,
    Profile,
    next_page,
    parse_posts,
    parse_profile,
    rollup,
    window_tags,
)
from .provider import ScrapeCreatorsClient
from .provider_bodies import OUT_OF_CREDITS, ProviderBodyError
from .provider_runs import NOT_FOUND, PullRun
from .repository import sql

log = get_logger(__name__)
BENCHMARK_TYPES = (BenchmarkAccountUpserted, BenchmarkAccountRemoved)


async def on_account_event(pool: asyncpg.Pool, envelope: Envelope[EventData]) -> bool:
    """Keep ingest's copy of one benchmark account (newer wins; a removal is for good)."""
    data = envelope.data
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, repository.SCHEMA, envelope.event_id, envelope.type):
            return False
        if isinstance(data, BenchmarkAccountUpserted):
            await conn.execute(
                sql.benchmark_upsert_account,
                data.id,
                envelope.org_id,
                data.set_id,
                data.platform,
                data.handle,
                data.updated_at,
            )
        elif isinstance(data, BenchmarkAccountRemoved):
            await conn.execute(
                sql.benchmark_remove_account, data.id, envelope.org_id, data.set_id, data.removed_at
            )
    return True


@dataclass(frozen=True)
class Account:
    id: UUID
    org_id: UUID
    platform: str
    handle: str


@dataclass(frozen=True)
class Pulled:
    """What one account's pull found: its runs, and either its profile and posts or why not."""

    runs: list[PullRun]
    status: str  # ok, unknown_handle, private, failed
    detail: str | None = None
    profile: Profile | None = None
    posts: tuple[BenchmarkPost, ...] = ()


async def pull_account(client: ScrapeCreatorsClient, account: Account, now: datetime) -> Pulled:
    """The profile (followers, private or unknown), then the recent posts of a public one."""
    profile_path, posts_path, extra = ENDPOINTS[account.platform]
    label = f"benchmark:{account.platform}:@{account.handle}"
    platform: Any = account.platform
    first = await client.fetch_json(platform, profile_path, {"handle": account.handle}, label=label)
    runs = [first.run]
    if first.run.status != "ok" or first.raw is None:
        if first.run.error_code == NOT_FOUND:
            return Pulled(runs, UNKNOWN_HANDLE, "the provider knows no such account")
        return Pulled(runs, "failed", first.run.error)
    try:
        profile = parse_profile(account.platform, first.raw)
    except ProviderBodyError as exc:
        status = UNKNOWN_HANDLE if exc.code == UNKNOWN_HANDLE else "failed"
        return Pulled(runs, status, exc.message)
    if profile.private:
        return Pulled(runs, PRIVATE, "the account is private: its posts cannot be read", profile)
    # Pages of recent posts until one reaches back past the 30-day window (or MAX_PAGES).
    posts: list[BenchmarkPost] = []
    params: dict[str, str] = {"handle": account.handle, **extra}
    horizon = now - WINDOW
    for _ in range(MAX_PAGES):
        page = await client.fetch_json(platform, posts_path, params, label=label)
        runs.append(page.run)
        if page.run.status != "ok" or page.raw is None:
            if posts:  # a later page failed: what was read is still a sound sample
                break
            return Pulled(runs, "failed", page.run.error, profile)
        try:
            found = parse_posts(account.platform, page.raw)
        except ProviderBodyError as exc:
            if posts:
                break
            return Pulled(runs, "failed", exc.message, profile)
        posts.extend(found)
        more = next_page(account.platform, page.raw)
        if not found or more is None or min(p.posted_at for p in found) <= horizon:
            break
        params = {"handle": account.handle, **extra, **more}
    unique = {p.platform_post_id: p for p in reversed(posts)}  # pages may overlap: newest read wins
    return Pulled(runs, "ok", None, profile, tuple(unique.values()))


async def save_pull(conn: Connection, account: Account, pulled: Pulled, now: datetime) -> None:
    """The runs, the posts, the day's record and the rollup of one pull, in one transaction."""
    await repository.insert_pull_runs(
        conn,
        org_id=account.org_id,
        command_id=uuid4(),
        priority="low",
        reason="benchmark",
        runs=[(account.id, run) for run in pulled.runs],
    )
    followers = pulled.profile.followers if pulled.profile else None
    await conn.execute(
        sql.benchmark_set_status, account.id, pulled.status, pulled.detail, now, followers
    )
    if any(run.error_code == OUT_OF_CREDITS for run in pulled.runs):
        await repository.pause_org(conn, account.org_id, now, "out of credits (benchmark pull)")
    if pulled.status != "ok":
        return
    posts = pulled.posts
    await conn.execute(
        sql.benchmark_save_posts,
        account.id,
        now,
        [p.platform_post_id for p in posts],
        [p.posted_at for p in posts],
        [p.caption.replace("\x00", "") if p.caption else None for p in posts],
        [p.views for p in posts],
        [p.likes for p in posts],
        [p.comments for p in posts],
        [p.shares for p in posts],
        [p.saves for p in posts],
    )
    held = [
        BenchmarkPost(*r)
        for r in await conn.fetch(sql.benchmark_load_posts, account.id, now - WINDOW)
    ]
    today = now.astimezone(UTC).date()
    history = [
        DayRecord(r["day"], r["followers"], r["median_views"])
        for r in await conn.fetch(sql.benchmark_load_days, account.id, today - timedelta(days=30))
    ]
    figures = rollup(posts=held, followers=followers, history=history, as_of=now)
    await conn.execute(sql.benchmark_save_day, account.id, today, followers, figures.median_views)
    tags = window_tags(held, now)
    await conn.execute(sql.benchmark_delete_tags, account.id)
    await conn.execute(
        sql.benchmark_save_tags,
        account.id,
        [t[0] for t in tags],
        [t[1] for t in tags],
        [t[2] for t in tags],
        [t[3] for t in tags],
        [t[4] for t in tags],
    )
    await conn.execute(
        sql.benchmark_save_rollup,
        account.id,
        figures.as_of,
        figures.posts_30d,
        figures.posts_per_week,
        figures.median_views,
        figures.median_engagement_rate,
        figures.follower_growth_pct,
        figures.view_growth_pct,
        figures.growth_days,
    )


class BenchmarkPuller:
    """The daily pulls of benchmark accounts, in every replica (claims keep them apart)."""

    def __init__(
        self,
        *,
        pool: PoolGetter,
        client: Callable[[], Awaitable[ScrapeCreatorsClient]],
        now: Callable[[], datetime],
        wait_turn: Callable[[], Awaitable[None]],
        low_backlog: Callable[[], Awaitable[int]] | None = None,
        every: timedelta = timedelta(days=1),
        poll_s: float = 60.0,
        per_pass: int = 20,
        due: asyncio.Event | None = None,
    ) -> None:
        self._pool = pool
        self._client = client
        self._now = now
        self._wait_turn = wait_turn
        self._low_backlog = low_backlog
        self.every = every
        self.poll_s = poll_s
        self.per_pass = per_pass
        self.due = due if due is not None else asyncio.Event()

    async def loop(self, _: object = None) -> None:
        while True:
            try:
                await self.pull_due()
            except* (OSError, asyncpg.PostgresError) as failed:
                log.warning(
                    "benchmark pass failed; the next retries", error=repr(failed.exceptions[0])
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.due.wait(), timeout=self.poll_s)
            self.due.clear()

    async def pull_due(self) -> int:
        """One pass: the accounts due now, one at a time; returns how many were pulled."""
        client = await self._client()
        async with self._pool().acquire() as conn:
            claimed = await conn.fetch(
                sql.benchmark_claim_due, self._now(), self.every, self.per_pass
            )
        accounts = [Account(r["id"], r["org_id"], r["platform"], r["handle"]) for r in claimed]
        for account in accounts:
            await self._yield_to_booked_posts()
            pulled = await pull_account(client, account, self._now())
            async with self._pool().acquire() as conn, conn.transaction():
                await save_pull(conn, account, pulled, self._now())
        return len(accounts)

    async def _yield_to_booked_posts(self) -> None:
        await self._wait_turn()
        if self._low_backlog is None:
            return
        for _ in range(600):  # at most a minute behind a busy low queue, then go on
            with contextlib.suppress(OSError):
                if await self._low_backlog() == 0:
                    return
            await asyncio.sleep(0.1)


async def read_accounts(
    conn: Connection, org_id: UUID, account_ids: Sequence[UUID]
) -> list[dict[str, Any]]:
    rows = await conn.fetch(sql.benchmark_accounts_read, org_id, list(account_ids))
    return [dict(r) for r in rows]


def benchmark_reads(pool: PoolGetter, service_token: str) -> APIRouter:
    router = internal_router(service_token, prefix="/internal", tags=["internal"])

    @router.get("/orgs/{org_id}/benchmark-accounts", response_model=BenchmarkAccounts)
    async def accounts(
        org_id: UUID, ids: Annotated[str, Query(max_length=40_000)] = ""
    ) -> dict[str, Any]:
        """Each of the organization's benchmark accounts among `ids` (comma-separated), with
        its pull status and rollup; unknown ids are left out."""
        wanted = _uuids(ids)
        async with pool().acquire() as conn:
            found = await read_accounts(conn, org_id, wanted)
        return {"items": [_jsonable(row) for row in found]}

    @router.get("/orgs/{org_id}/benchmark-tags", response_model=TopTags)
    async def tags(
        org_id: UUID,
        ids: Annotated[str, Query(max_length=40_000)] = "",
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> dict[str, Any]:
        """The top hashtags and mentions of the accounts among `ids`, over their windows."""
        wanted = _uuids(ids)
        async with pool().acquire() as conn:
            found = {
                kind: [
                    {**dict(r), "engagement_rate": engagement_rate(r["engagement"], r["views"])}
                    for r in await conn.fetch(sql.benchmark_top_tags, org_id, wanted, kind, limit)
                ]
                for kind in ("hashtag", "mention")
            }
        return {"hashtags": found["hashtag"], "mentions": found["mention"]}

    return router


def _uuids(raw: str) -> list[UUID]:
    try:
        return [UUID(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise ApiError(422, "ids must be comma-separated UUIDs", details=[{"path": "ids"}]) from exc


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (
            v.isoformat().replace("+00:00", "Z")
            if isinstance(v, datetime)
            else str(v)
            if isinstance(v, UUID)
            else v
        )
        for k, v in row.items()
    }
