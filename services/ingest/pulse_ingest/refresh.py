"""The refresh scheduler: one replica a tick enqueues every due post as low-priority batches,
and while an organization is paused for credits, checks the provider's balance to resume it."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import asyncpg

from pulse_contracts.posts import FetchTarget
from pulse_runtime.db import Connection
from pulse_runtime.logging import get_logger

from . import handlers, repository, scheduler
from .provider import CreditBalanceError

if TYPE_CHECKING:
    from .pulling import PullerParts, PullSettings

log = get_logger(__name__)

# pg_advisory lock key of the refresh scheduler: one replica acts per tick.
SCHEDULER_LOCK_KEY: Final = 0x7075_6C73_6501  # "pulse" + 1


@dataclass(frozen=True)
class TickResult:
    acted: bool
    batches: list[scheduler.Batch] = field(default_factory=list)
    resumed: list[UUID] = field(default_factory=list)
    credits: int | None = None

    def as_response(self) -> dict[str, Any]:
        return {
            "acted": self.acted,
            "batches": [
                {
                    "org_id": str(b.org_id),
                    "platform": b.platform,
                    "post_ids": [str(p.post_id) for p in b.posts],
                }
                for b in self.batches
            ],
            "resumed": [str(o) for o in self.resumed],
            "credits": self.credits,
        }


class RefreshScheduler:
    """Runs in every replica; `tick` acts only under the advisory lock."""

    def __init__(self, settings: PullSettings, parts: PullerParts) -> None:
        self.settings = settings
        self._parts = parts
        self._last_credit_check: datetime | None = None

    async def loop(self) -> None:
        await self._parts.ready.wait()
        interval = max(0.1, self.settings.scheduler_interval_s)
        while True:
            # Jitter keeps replicas that started together from contending on every tick.
            await asyncio.sleep(interval * random.uniform(0.9, 1.1))
            try:
                result = await self.tick()
                if result.batches:
                    log.info(
                        "refresh scheduled",
                        batches=len(result.batches),
                        posts=sum(len(b.posts) for b in result.batches),
                    )
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("scheduler tick failed; next tick retries", error=repr(exc))

    async def tick(self) -> TickResult:
        """One scheduler pass: balance check for paused organizations, then every due post
        enqueued as low-priority batches — only by the replica holding the advisory lock."""
        async with self._parts.pool().acquire() as conn:
            if not await repository.scheduler_lock(conn, SCHEDULER_LOCK_KEY):
                return TickResult(acted=False)
            try:
                now = self._parts.clock.now()
                resumed, credits = await self._check_credits(conn, now)
                async with conn.transaction():
                    batches = await self._enqueue_due(conn, now)
            finally:
                await repository.scheduler_unlock(conn, SCHEDULER_LOCK_KEY)
        if batches:
            self._parts.wake_relay()
        return TickResult(acted=True, batches=batches, resumed=resumed, credits=credits)

    async def _enqueue_due(self, conn: Connection, now: datetime) -> list[scheduler.Batch]:
        rows = await repository.scheduler_candidates(
            conn,
            now=now,
            min_interval=scheduler.MIN_INTERVAL,
            queue_timeout=self.settings.queue_timeout,
        )
        posts = [scheduler.PostSchedule(**dict(row)) for row in rows]
        due = scheduler.due_posts(
            posts,
            now,
            queue_timeout=self.settings.queue_timeout,
            limit=self.settings.max_per_tick,
        )
        batches = scheduler.plan_batches(due, scheduler.batch_sizes(self.settings.batch_sizes))
        for batch in batches:
            await handlers.enqueue_fetch(
                conn,
                org_id=batch.org_id,
                targets=[
                    FetchTarget(post_id=p.post_id, platform=p.platform, url=p.url)
                    for p in batch.posts
                ],
                priority="low",
                reason="scheduled",
                now=now,
            )
        return batches

    async def _check_credits(
        self, conn: Connection, now: datetime
    ) -> tuple[list[UUID], int | None]:
        """While any organization is paused, ask the provider's balance (a free call) at most
        once per credit_check_interval; credits found resume every paused organization."""
        if not await repository.any_paused(conn):
            return [], None
        last = self._last_credit_check
        # (A clock that moved backwards, as tests move it, counts as due for a check.)
        if last is not None and timedelta(0) <= now - last < self.settings.credit_check_interval:
            return [], None
        self._last_credit_check = now
        client = await self._parts.client()
        try:
            credits = await client.credit_balance()
        except CreditBalanceError as exc:
            log.warning("credit balance check failed", code=exc.code, error=exc.message)
            return [], None
        if credits <= 0:
            return [], credits
        async with conn.transaction():
            resumed = await repository.resume_orgs(conn, None, now)
        log.info("provider credits available again: pulls resumed", organizations=len(resumed))
        return resumed, credits

    async def resume(self, org_id: UUID) -> bool:
        async with self._parts.pool().acquire() as conn:
            resumed = await repository.resume_orgs(conn, [org_id], self._parts.clock.now())
        return bool(resumed)
