"""alerter's subscribers (kpi.updated, catalog.*, post.*) and the 5-minute sweep."""

from __future__ import annotations

import asyncio

from pulse_contracts import Envelope, EventData, utcnow
from pulse_runtime.messaging import subscribe_events
from pulse_runtime.service import ServiceRuntime
from pulse_runtime.topology import QUEUES

from . import handlers

QUEUE_NAMES = ("alerter.kpi", "alerter.catalog", "alerter.posts")


def register_consumers(runtime: ServiceRuntime) -> None:
    async def kpi_updated(envelope: Envelope[EventData]) -> None:
        if await handlers.on_kpi_updated(runtime.pool, envelope, utcnow()):
            runtime.wake_relay()

    async def catalog_event(envelope: Envelope[EventData]) -> None:
        if await handlers.on_catalog_event(runtime.pool, envelope, utcnow()):
            runtime.wake_relay()

    async def post_event(envelope: Envelope[EventData]) -> None:
        if await handlers.on_post_event(runtime.pool, envelope, utcnow()):
            runtime.wake_relay()

    subscribe_events(runtime.broker, QUEUES["alerter.kpi"], kpi_updated)
    subscribe_events(runtime.broker, QUEUES["alerter.catalog"], catalog_event)
    subscribe_events(runtime.broker, QUEUES["alerter.posts"], post_event)


def sweep_loop(interval_seconds: float):  # type: ignore[no-untyped-def]
    async def run(runtime: ServiceRuntime) -> None:
        while True:
            await asyncio.sleep(interval_seconds)
            if await handlers.sweep(runtime.pool, utcnow()):
                runtime.wake_relay()

    return run
