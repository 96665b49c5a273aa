"""Live updates for browsers: kpi.updated, alert.* and report.progressed, per organization.

Every gateway instance binds its own exclusive, auto-delete queue, so each instance sees every
event and serves its own connected clients; nothing is shared between instances.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from faststream import AckPolicy
from faststream.rabbit import RabbitBroker, RabbitQueue
from faststream.rabbit.annotations import RabbitMessage

from pulse_contracts import ContractError, parse_event
from pulse_contracts.numbers import CampaignNumbers
from pulse_runtime import tracing
from pulse_runtime.logging import get_logger
from pulse_runtime.topology import EVENTS

from .read_model import NumbersReadModel

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

    @broker.subscriber(queue, EVENTS, ack_policy=AckPolicy.ACK, title="gateway.stream:consume")
    async def relay(msg: RabbitMessage) -> None:
        try:
            envelope = parse_event(msg.body)
        except ContractError as exc:
            log.warning("stream event dropped: not a valid event", reason=str(exc))
            return  # a live view only; the durable consumers keep the message
        tracing.set_correlation(envelope.correlation_id)
        if isinstance(envelope.data, CampaignNumbers):
            numbers.offer(envelope.org_id, envelope.data)
        # Spliced rather than re-encoded: a kpi.updated is ~100 KB for a large campaign, and a
        # dumps(loads(...)) round trip per event was the relay's main cost.
        data = envelope.data.model_dump_json()
        payload = f'{{"type":{json.dumps(envelope.type)},"data":{data}}}'
        # The SSE push, as the last step of the event's trace when tracing is on.
        with tracing.span("gateway sse push", event_type=envelope.type) as push:
            push.set("pulse.sse.clients", hub.publish(envelope.org_id, envelope.type, payload))


async def bind_more(broker: RabbitBroker, queue: RabbitQueue) -> None:
    """FastStream binds one routing key per queue; the others are bound here."""
    declared = await broker.declare_queue(queue)
    exchange = await broker.declare_exchange(EVENTS)
    for key in STREAMED[1:]:
        await declared.bind(exchange, routing_key=key)
