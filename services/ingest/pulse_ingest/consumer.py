"""ingest's subscribers: catalog copies, and items n8n publishes to pulse.ingest."""

from __future__ import annotations

from typing import Any

from pulse_contracts import Envelope, EventData, utcnow
from pulse_runtime.logging import current_correlation_id, get_logger
from pulse_runtime.messaging import subscribe_events, subscribe_raw
from pulse_runtime.service import ServiceRuntime
from pulse_runtime.topology import QUEUES

from . import handlers

log = get_logger(__name__)
INGEST_KEY_HEADER = "x-pulse-key"
QUEUE_NAMES = ("ingest.catalog", "ingest.items")


def register_consumers(runtime: ServiceRuntime) -> None:
    async def catalog_event(envelope: Envelope[EventData]) -> None:
        await handlers.on_catalog_event(runtime.pool, envelope)

    async def ingest_message(body: bytes, headers: dict[str, Any], _: str | None) -> None:
        token = headers.get(INGEST_KEY_HEADER)
        result = await handlers.ingest_message(
            runtime.pool,
            body=body,
            token=token if isinstance(token, str) else None,
            now=utcnow(),
            correlation_id=current_correlation_id(),
        )
        runtime.wake_relay()
        log.info(
            "ingest message handled",
            accepted=result.accepted,
            duplicates=result.duplicates,
            rejected=len(result.rejected),
        )

    subscribe_events(runtime.broker, QUEUES["ingest.catalog"], catalog_event)
    subscribe_raw(runtime.broker, QUEUES["ingest.items"], ingest_message)
