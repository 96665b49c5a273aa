"""alerter's subscribers (kpi.updated, catalog.*, failed pulls and comment scores), the
evaluation loop they wake, and the 5-minute sweep."""

from __future__ import annotations

import asyncio
import contextlib

from pulse_contracts import Envelope, EventData, utcnow
from pulse_runtime.messaging import LARGE_MESSAGE_PREFETCH, subscribe_events
from pulse_runtime.service import Loop, ServiceRuntime
from pulse_runtime.topology import QUEUES

from . import evaluation, handlers, repository
from .messages import NARROW

QUEUE_NAMES = ("alerter.kpi", "alerter.catalog", "alerter.posts")
# Subscribers only note what an event says and mark its campaign; the evaluator waits this long
# after a wake-up so a burst (kpi.updated documents of one campaign, a backlog after a restart)
# becomes one evaluation per campaign. Alerts are not on the freshness path: the sweep
# alone would catch every rule within 5 minutes.
COALESCE_SECONDS = 0.1
# Catches marks left by a crashed replica, by another replica's events, or by a skipped lock.
IDLE_POLL_SECONDS = 1.0


class Evaluator:
    def __init__(self) -> None:
        self.wake = asyncio.Event()
        # The documents the subscriber decoded, so their evaluation need not decode them again.
        self.held = repository.HeldNumbers()

    async def run(self, runtime: ServiceRuntime) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=IDLE_POLL_SECONDS)
            self.wake.clear()
            await asyncio.sleep(COALESCE_SECONDS)
            if await evaluation.evaluate_marked(runtime.pool, now=utcnow, held=self.held):
                runtime.wake_relay()


def register_consumers(runtime: ServiceRuntime, evaluator: Evaluator) -> None:
    async def kpi_updated(envelope: Envelope[EventData]) -> None:
        if await handlers.note_kpi_updated(runtime.pool, envelope, evaluator.held):
            evaluator.wake.set()

    async def catalog_event(envelope: Envelope[EventData]) -> None:
        if await handlers.note_catalog_event(runtime.pool, envelope):
            evaluator.wake.set()

    async def post_event(envelope: Envelope[EventData]) -> None:
        if await handlers.note_post_event(runtime.pool, envelope):
            evaluator.wake.set()

    # The documents are decoded only as far as the alerter reads them (messages.py).
    subscribe_events(
        runtime.broker,
        QUEUES["alerter.kpi"],
        kpi_updated,
        prefetch=LARGE_MESSAGE_PREFETCH,
        narrow=NARROW,
    )
    subscribe_events(runtime.broker, QUEUES["alerter.catalog"], catalog_event)
    subscribe_events(runtime.broker, QUEUES["alerter.posts"], post_event)


def sweep_loop(interval_seconds: float, held: repository.HeldNumbers | None = None) -> Loop:
    async def run(runtime: ServiceRuntime) -> None:
        while True:
            await asyncio.sleep(interval_seconds)
            if await evaluation.sweep(runtime.pool, utcnow(), held):
                runtime.wake_relay()

    return run
