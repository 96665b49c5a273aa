"""alerter's subscribers (kpi.updated, catalog.*, post.*), the evaluation loop they wake, and the
5-minute sweep."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import asyncpg

from pulse_contracts import Envelope, EventData, utcnow
from pulse_runtime.messaging import LARGE_MESSAGE_PREFETCH, subscribe_events
from pulse_runtime.service import Loop, ServiceRuntime
from pulse_runtime.topology import QUEUES

from . import evaluation, handlers
from .messages import NARROW

QUEUE_NAMES = ("alerter.kpi", "alerter.catalog", "alerter.posts")
# Subscribers only note what an event says and mark its campaign; the evaluator waits this long
# after a wake-up so a burst (a kpi.updated and the post.pulled behind it, a backlog after a
# restart) becomes one evaluation per campaign. Alerts are not on the freshness path: the sweep
# alone would catch every rule within 5 minutes.
COALESCE_SECONDS = 0.1
# Catches marks left by a crashed replica, by another replica's events, or by a skipped lock.
IDLE_POLL_SECONDS = 1.0


class Evaluator:
    """The evaluation loop of one replica.

    A campaign this replica evaluated less than `min_interval_s` ago is left marked until that
    much time has passed (settings.evaluation_interval_s). Under a steady stream of samples a
    large campaign gets a new document every second or so, and evaluating every rule of a
    200-post campaign costs tens of milliseconds of CPU each time (`python -m
    bench.consumer_cost`); its marks then wait, and the evaluation that comes takes the newest
    document. A campaign marked after a quiet spell is evaluated as soon as before."""

    def __init__(
        self,
        min_interval_s: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.wake = asyncio.Event()
        self.min_interval_s = min_interval_s
        self.clock = clock  # what the interval is measured on
        self.now = now  # the moment the rules are evaluated at
        self.evaluated_at: dict[UUID, float] = {}  # the clock at each recent evaluation

    def recently_evaluated(self, clock: float) -> list[UUID]:
        """The campaigns evaluated within the interval before `clock` (others forgotten)."""
        self.evaluated_at = {
            c: at for c, at in self.evaluated_at.items() if clock - at < self.min_interval_s
        }
        return list(self.evaluated_at)

    async def run(self, runtime: ServiceRuntime) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=IDLE_POLL_SECONDS)
            self.wake.clear()
            await asyncio.sleep(COALESCE_SECONDS)
            if await self.evaluate(runtime.pool):
                runtime.wake_relay()

    async def evaluate(self, pool: asyncpg.Pool) -> int:
        """One pass over the marked campaigns not evaluated too recently; events published."""
        evaluated: set[UUID] = set()
        published = await evaluation.evaluate_marked(
            pool,
            now=self.now,
            skip=self.recently_evaluated(self.clock()),
            evaluated=evaluated,
        )
        self.evaluated_at.update(dict.fromkeys(evaluated, self.clock()))
        return published


def register_consumers(runtime: ServiceRuntime, evaluator: Evaluator) -> None:
    async def kpi_updated(envelope: Envelope[EventData]) -> None:
        if await handlers.note_kpi_updated(runtime.pool, envelope):
            evaluator.wake.set()

    async def catalog_event(envelope: Envelope[EventData]) -> None:
        if await handlers.note_catalog_event(runtime.pool, envelope):
            evaluator.wake.set()

    async def post_event(envelope: Envelope[EventData]) -> None:
        if await handlers.note_post_event(runtime.pool, envelope):
            evaluator.wake.set()

    large = LARGE_MESSAGE_PREFETCH
    # The large messages are decoded only as far as the alerter reads them (messages.py).
    subscribe_events(
        runtime.broker, QUEUES["alerter.kpi"], kpi_updated, prefetch=large, narrow=NARROW
    )
    subscribe_events(runtime.broker, QUEUES["alerter.catalog"], catalog_event)
    subscribe_events(
        runtime.broker, QUEUES["alerter.posts"], post_event, prefetch=large, narrow=NARROW
    )


def sweep_loop(interval_seconds: float) -> Loop:
    async def run(runtime: ServiceRuntime) -> None:
        while True:
            await asyncio.sleep(interval_seconds)
            if await evaluation.sweep(runtime.pool, utcnow()):
                runtime.wake_relay()

    return run
