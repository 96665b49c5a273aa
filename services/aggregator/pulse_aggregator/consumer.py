"""aggregator's subscribers (post.pulled, catalog.*) and the recompute loop they wake."""

from __future__ import annotations

import asyncio
import contextlib

from pulse_contracts import Envelope, EventData, utcnow
from pulse_runtime.messaging import subscribe_events
from pulse_runtime.service import ServiceRuntime
from pulse_runtime.topology import QUEUES

from . import handlers

QUEUE_NAMES = ("aggregator.catalog", "aggregator.posts")
# Wait this long after a wake-up so a burst of batches becomes one kpi.updated per campaign;
# well inside the 50 ms coalescing bound of design/events.md.
COALESCE_SECONDS = 0.01
# Catches marks left by a crashed replica or woken elsewhere.
IDLE_POLL_SECONDS = 0.5


class Recomputer:
    def __init__(self) -> None:
        self.wake = asyncio.Event()

    async def run(self, runtime: ServiceRuntime) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=IDLE_POLL_SECONDS)
            self.wake.clear()
            await asyncio.sleep(COALESCE_SECONDS)
            if await handlers.recompute_dirty(runtime.pool, now=utcnow):
                runtime.wake_relay()
                # A pass takes at most a batch of marks: look again for the rest.
                self.wake.set()


def register_consumers(runtime: ServiceRuntime, recomputer: Recomputer) -> None:
    async def post_pulled(envelope: Envelope[EventData]) -> None:
        if await handlers.on_post_pulled(runtime.pool, envelope):
            recomputer.wake.set()

    async def catalog_event(envelope: Envelope[EventData]) -> None:
        if await handlers.on_catalog_event(runtime.pool, envelope):
            recomputer.wake.set()

    subscribe_events(runtime.broker, QUEUES["aggregator.posts"], post_pulled)
    subscribe_events(runtime.broker, QUEUES["aggregator.catalog"], catalog_event)
