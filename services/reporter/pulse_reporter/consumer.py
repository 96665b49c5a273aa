"""reporter's subscriber (report.requested, one job per render slot) and the retention sweep."""

from __future__ import annotations

import asyncio

from pulse_contracts import Envelope, EventData, utcnow
from pulse_contracts.reports import ReportRequested
from pulse_runtime.logging import get_logger
from pulse_runtime.messaging import subscribe_events
from pulse_runtime.service import Loop, ServiceRuntime
from pulse_runtime.topology import QUEUES

from . import handlers

log = get_logger(__name__)
QUEUE_NAMES = ("reporter.jobs",)


def register_consumers(
    runtime: ServiceRuntime, config: handlers.RenderConfig, render_slots: int
) -> None:
    async def report_requested(envelope: Envelope[EventData]) -> None:
        if await handlers.render_job(runtime.pool, envelope, config):
            runtime.wake_relay()

    # Prefetch = render slots: a replica holds no more jobs than it renders, so a waiting job
    # goes to whichever replica is free instead of queueing behind a long render.
    subscribe_events(
        runtime.broker,
        QUEUES["reporter.jobs"],
        report_requested,
        prefetch=render_slots,
        accepts=(ReportRequested,),
    )


def retention_loop(interval_seconds: float) -> Loop:
    async def run(runtime: ServiceRuntime) -> None:
        while True:
            deleted = await handlers.sweep_expired(runtime.pool, utcnow())
            if deleted:
                log.info("expired report files deleted", count=deleted)
            await asyncio.sleep(interval_seconds)

    return run
