"""share's subscribers: catalog.* and kpi.updated in, redacted projections rebuilt; its report
jobs' state from report.progressed."""

from __future__ import annotations

from pulse_contracts import Envelope, EventData, utcnow
from pulse_runtime.messaging import LARGE_MESSAGE_PREFETCH, subscribe_events
from pulse_runtime.service import ServiceRuntime
from pulse_runtime.topology import QUEUES

from . import handlers, report_jobs
from .messages import NARROW

QUEUE_NAMES = ("share.catalog", "share.kpi", "share.reports")


def register_consumers(runtime: ServiceRuntime) -> None:
    async def catalog_event(envelope: Envelope[EventData]) -> None:
        await handlers.on_catalog_event(runtime.pool, envelope, utcnow())

    async def kpi_updated(envelope: Envelope[EventData]) -> None:
        await handlers.on_kpi_updated(runtime.pool, envelope, utcnow())

    async def report_progressed(envelope: Envelope[EventData]) -> None:
        await report_jobs.on_report_progressed(runtime.pool, envelope)

    subscribe_events(runtime.broker, QUEUES["share.catalog"], catalog_event)
    subscribe_events(runtime.broker, QUEUES["share.reports"], report_progressed)
    # kpi.updated is decoded only as far as share's redaction reads it (messages.py): its
    # money never enters share, and its other fields cost no CPU.
    subscribe_events(
        runtime.broker,
        QUEUES["share.kpi"],
        kpi_updated,
        prefetch=LARGE_MESSAGE_PREFETCH,
        narrow=NARROW,
    )
