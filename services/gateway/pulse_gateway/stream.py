"""Live updates for browsers: kpi.updated, alert.* and report.progressed, per organization.

Every gateway instance binds its own exclusive, auto-delete queue, so each instance sees every
event and serves its own connected clients; nothing is shared between instances.

A frame says what changed, never the thing itself (`notice`): `{type, campaign_id, version}`,
named by the event's type. The page refetches only the fragment that changed, and only when the
version is newer than the one it shows; the numbers come from this replica's read model, which
holds the document before the frame leaves. A kpi.updated is ~100 KB for a large campaign and
the browser used to throw it away; the frame is ~100 bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from faststream import AckPolicy
from faststream.rabbit import RabbitBroker, RabbitQueue

from pulse_contracts import ContractError, Envelope, EventData
from pulse_contracts.alerts import AlertFacts
from pulse_contracts.numbers import CampaignNumbers
from pulse_contracts.reports import ReportProgressed
from pulse_runtime import tracing
from pulse_runtime.logging import get_logger
from pulse_runtime.messaging import message_itself, parse_envelope, taken
from pulse_runtime.topology import EVENTS

from .read_model import NumbersReadModel, version_of

log = get_logger(__name__)
STREAMED = ("kpi.updated", "alert.*", "report.progressed")
CLIENT_BUFFER = 256  # a client this far behind loses its oldest events, never the gateway
HEARTBEAT_S = 15.0
# The last frame of a stream whose credential ended; the page's script does not reconnect.
CLOSED_FRAME = 'event: closed\ndata: {"reason": "signed out or no longer allowed"}\n\n'
StillAllowed = Callable[[], Awaitable[bool]]


@dataclass
class StreamHub:
    _clients: dict[UUID, set[asyncio.Queue[str]]] = field(default_factory=dict)

    def publish(self, org_id: UUID, event_type: str, payload: str) -> int:
        """Queue the event for each of the organization's streams; returns how many."""
        frame = f"event: {event_type}\ndata: {payload}\n\n"
        clients = self._clients.get(org_id, ())
        for queue in clients:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(frame)
        return len(clients)

    @contextlib.contextmanager
    def subscribe(self, org_id: UUID) -> Iterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(CLIENT_BUFFER)
        self._clients.setdefault(org_id, set()).add(queue)
        try:
            yield queue
        finally:
            clients = self._clients.get(org_id, set())
            clients.discard(queue)
            if not clients:
                self._clients.pop(org_id, None)

    async def frames(
        self, org_id: UUID, *, still_allowed: StillAllowed, recheck_s: float
    ) -> AsyncIterator[str]:
        """The organization's events until the client leaves or `still_allowed` says no. A
        stream lives for hours, so its credential is asked about again every `recheck_s`: a
        signed-out session or a revoked token stops receiving numbers within that time."""
        clock = asyncio.get_running_loop().time
        with self.subscribe(org_id) as queue:
            yield ": connected\n\n"
            next_check = clock() + recheck_s
            next_beat = clock() + HEARTBEAT_S
            while True:
                now = clock()
                if now >= next_check:
                    if not await still_allowed():
                        yield CLOSED_FRAME
                        return
                    next_check = now + recheck_s
                if now >= next_beat:
                    yield ": heartbeat\n\n"  # keeps proxies from closing an idle stream
                    next_beat = now + HEARTBEAT_S
                with contextlib.suppress(TimeoutError):
                    yield await asyncio.wait_for(
                        queue.get(), timeout=max(0.0, min(next_check, next_beat) - now)
                    )


def stream_queue() -> RabbitQueue:
    # Named under "gateway." so the gateway's RabbitMQ user may declare it (deploy/rabbitmq).
    queue: RabbitQueue = RabbitQueue(
        f"gateway.stream.{uuid4().hex[:12]}",
        durable=False,
        exclusive=True,
        auto_delete=True,
        routing_key=STREAMED[0],
    )
    return queue


def subscribe_stream(
    broker: RabbitBroker, hub: StreamHub, queue: RabbitQueue, numbers: NumbersReadModel
) -> None:
    """Relay each event to the organization's streams; a kpi.updated also goes straight into
    this replica's read model, so its next read shows what the stream just announced."""

    @broker.subscriber(
        queue,
        EVENTS,
        ack_policy=AckPolicy.ACK,
        title="gateway.stream:consume",
        # The message itself, as subscribe_events takes it: a RabbitMessage parameter was
        # resolved in a worker thread per message, four threads whose own malloc arenas held
        # what the documents left behind (P6).
        decoder=message_itself,
    )
    async def relay(message: Any) -> None:
        msg = taken(message)
        try:
            # Typed by the routing key (the event type), straight from the JSON: half the cost
            # of the generic parse on a ~130 KB kpi.updated, which every notice waits behind.
            envelope = parse_envelope(msg.body, msg.raw_message.routing_key)
        except ContractError as exc:
            log.warning("stream event dropped: not a valid event", reason=str(exc))
            return  # a live view only; the durable consumers keep the message
        tracing.set_correlation(envelope.correlation_id)
        if isinstance(envelope.data, CampaignNumbers):
            numbers.offer(envelope.org_id, envelope.data)
        payload = json.dumps(notice(envelope), separators=(",", ":"))
        # The SSE push, as the last step of the event's trace when tracing is on.
        with tracing.span("gateway sse push", event_type=envelope.type) as push:
            push.set("pulse.sse.clients", hub.publish(envelope.org_id, envelope.type, payload))


def notice(envelope: Envelope[EventData]) -> dict[str, Any]:
    """What a stream frame carries for an event: what changed and its version.

    - kpi.updated: `{"type": "numbers", "campaign_id", "version"}`, the version being the
      document's (`version_of` its as_of), the one the numbers fragment shows in data-version.
    - alert.raised / alert.resolved: `{"type": "alerts", "campaign_id", "version"}`, the version
      being when the alerter decided (the event's occurred_at, same unit); campaign_id is null
      for an alert of no campaign.
    - report.progressed: `{"type": "report", "job_id", "version", "status", "progress"}`: a
      job is no campaign's, and a script following it stops on status without asking again.
    """
    data = envelope.data
    if isinstance(data, CampaignNumbers):
        return {
            "type": "numbers",
            "campaign_id": str(data.campaign.campaign_id),
            "version": version_of(data.as_of),
        }
    version = version_of(envelope.occurred_at)
    if isinstance(data, AlertFacts):
        campaign_id = str(data.campaign_id) if data.campaign_id else None
        return {"type": "alerts", "campaign_id": campaign_id, "version": version}
    if isinstance(data, ReportProgressed):
        return {
            "type": "report",
            "job_id": str(data.job_id),
            "version": version,
            "status": data.status,
            "progress": data.progress,
        }
    return {"type": envelope.type, "version": version}  # bound here by mistake: name it only


async def bind_more(broker: RabbitBroker, queue: RabbitQueue) -> None:
    """FastStream binds one routing key per queue; the others are bound here."""
    declared = await broker.declare_queue(queue)
    exchange = await broker.declare_exchange(EVENTS)
    for key in STREAMED[1:]:
        await declared.bind(exchange, routing_key=key)
