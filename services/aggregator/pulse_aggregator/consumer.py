"""aggregator's subscribers (post.pulled, catalog.*) and the recompute loop they wake."""

from __future__ import annotations

import asyncio
import contextlib
import time
from uuid import UUID

from pulse_contracts import Envelope, EventData, utcnow
from pulse_runtime.messaging import LARGE_MESSAGE_PREFETCH, subscribe_events
from pulse_runtime.service import ServiceRuntime
from pulse_runtime.topology import QUEUES

from . import handlers
from .lanes import is_large, pick_marks
from .repository import DirtyCampaign

QUEUE_NAMES = ("aggregator.catalog", "aggregator.posts")
# Wait this long after a wake-up so a burst of batches becomes one kpi.updated per campaign;
# well inside the 50 ms coalescing bound of design/events.md.
COALESCE_SECONDS = 0.01
# Catches marks left by a crashed replica or woken elsewhere.
IDLE_POLL_SECONDS = 0.5
# Campaigns computed at once: their database round trips overlap, and one large campaign never
# holds up the marks behind it (a pass that waited for its slowest campaign did).
WORKERS = 4
# How many of them a large campaign may take (lanes.pick_marks): the rest are kept for small
# ones, whose numbers are then out within one small recompute of their batch.
LARGE_LANES = 2
# The marks looked at per dispatch, oldest first: enough to find the small ones among them.
MARKS_LOOKED_AT = 64
# A campaign another replica is computing is not asked for again before this.
BUSY_BACKOFF_SECONDS = 0.1


class Recomputer:
    """Hands marked campaigns to a few workers as soon as one is free: small campaigns first,
    then the oldest marks, and large campaigns in at most LARGE_LANES workers (lanes.py).

    Each campaign is computed by one worker at a time (and, across replicas, under its lock);
    marks that arrive meanwhile wait for it to finish, so however many batches arrive, a
    campaign costs one recompute per round of its own, never one per batch.
    """

    def __init__(self, workers: int = WORKERS, large_lanes: int = LARGE_LANES) -> None:
        self.wake = asyncio.Event()
        self._workers = workers
        self._large_lanes = large_lanes
        self._running: dict[UUID, asyncio.Task[None]] = {}
        self._busy_until: dict[UUID, float] = {}
        # Tracked posts per campaign as its last recompute here saw them (a new campaign counts
        # as small until its first recompute).
        self._sizes: dict[UUID, int] = {}

    async def run(self, runtime: ServiceRuntime) -> None:
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=IDLE_POLL_SECONDS)
                self.wake.clear()
                await asyncio.sleep(COALESCE_SECONDS)
                await self._dispatch(runtime)
        finally:
            for task in self._running.values():
                task.cancel()

    async def _dispatch(self, runtime: ServiceRuntime) -> None:
        free = self._workers - len(self._running)
        if free <= 0:
            return  # a finishing worker wakes the loop
        now = time.monotonic()
        self._busy_until = {c: t for c, t in self._busy_until.items() if t > now}
        skip = [*self._running, *self._busy_until]
        marks = await handlers.next_marks(runtime.pool, skip=skip, limit=MARKS_LOOKED_AT)
        chosen = pick_marks(
            marks,
            self._sizes,
            free=free,
            large_running=sum(is_large(self._sizes, c) for c in self._running),
            large_lanes=self._large_lanes,
        )
        for mark in chosen:
            task = asyncio.create_task(self._recompute(runtime, mark))
            self._running[mark.campaign_id] = task

    async def _recompute(self, runtime: ServiceRuntime, mark: DirtyCampaign) -> None:
        try:
            if await handlers.recompute_campaign(runtime.pool, mark, utcnow(), sizes=self._sizes):
                runtime.wake_relay()
            elif await handlers.still_marked(runtime.pool, mark):
                self._busy_until[mark.campaign_id] = time.monotonic() + BUSY_BACKOFF_SECONDS
        finally:
            del self._running[mark.campaign_id]
            self.wake.set()


def register_consumers(runtime: ServiceRuntime, recomputer: Recomputer) -> None:
    freshness = runtime.metrics.freshness.labels("aggregated")
    known = handlers.KnownPosts()

    async def post_pulled(envelope: Envelope[EventData]) -> None:
        if await handlers.on_post_pulled(runtime.pool, envelope, known):
            # From ingest accepting the batch (its post.pulled was built then) to stored here.
            freshness.observe((utcnow() - envelope.occurred_at).total_seconds())
            recomputer.wake.set()

    async def catalog_event(envelope: Envelope[EventData]) -> None:
        if await handlers.on_catalog_event(runtime.pool, envelope):
            recomputer.wake.set()

    subscribe_events(
        runtime.broker, QUEUES["aggregator.posts"], post_pulled, prefetch=LARGE_MESSAGE_PREFETCH
    )
    subscribe_events(runtime.broker, QUEUES["aggregator.catalog"], catalog_event)
