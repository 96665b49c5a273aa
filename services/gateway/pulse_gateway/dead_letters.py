"""`pulse dlq`: what waits in the dead-letter queues, and putting it back once the cause is fixed.

A message lands in `<queue>.dlq` after failing its delivery limit (pulse_runtime.topology); what
it carried is not applied until someone replays it, and the PulseDeadLetters alert fires until
then. Operators look with `pulse dlq list` / `show <queue>` and replay with `replay <queue>`,
from any machine that reaches RabbitMQ, without the management UI.

Replaying publishes each message to its own queue with publisher confirms and only then
removes it from the DLQ. A crash between the two leaves a copy in both, which is safe: every
consumer applies an event once through its inbox (design/events.md), so a replay never
double-counts. Peeking (`show`) takes messages without acknowledging them and returns them all
when it is done: nothing is lost or reordered by looking.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from pulse_runtime.topology import QUEUES, QueueSpec

# Headers RabbitMQ writes on dead-lettering; a replayed message starts its history afresh
# (its own delivery count restarts in the queue), the reason is logged by the replay instead.
DEATH_HEADERS = frozenset(
    {
        "x-death",
        "x-first-death-exchange",
        "x-first-death-queue",
        "x-first-death-reason",
        "x-last-death-exchange",
        "x-last-death-queue",
        "x-last-death-reason",
        "x-delivery-count",
    }
)
EXCERPT_CHARS = 300


class UnknownQueue(ValueError):
    def __init__(self, queue: str) -> None:
        known = ", ".join(sorted(QUEUES))
        super().__init__(f"no queue named {queue!r}; Pulse's queues are: {known}")


@dataclass(frozen=True)
class DeadLetter:
    """One message waiting in a DLQ, as an operator needs to judge it."""

    event_type: str | None
    correlation_id: str | None
    reason: str | None
    deaths: int
    dead_since: datetime | None
    excerpt: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.event_type,
            "correlation_id": self.correlation_id,
            "reason": self.reason,
            "deaths": self.deaths,
            "dead_since": self.dead_since.isoformat() if self.dead_since else None,
            "body": self.excerpt,
        }


def queue_named(name: str) -> QueueSpec:
    """The queue an operator names, with or without its `.dlq` suffix."""
    spec = QUEUES.get(name.removesuffix(".dlq"))
    if spec is None:
        raise UnknownQueue(name)
    return spec


def describe(message: AbstractIncomingMessage) -> DeadLetter:
    headers: Mapping[str, Any] = message.headers or {}
    deaths = headers.get("x-death")
    first = deaths[0] if isinstance(deaths, list) and deaths else {}
    text = message.body.decode("utf-8", errors="replace")
    event_type = None
    try:
        body = json.loads(text)
        if isinstance(body, dict) and isinstance(body.get("type"), str):
            event_type = body["type"]
    except ValueError:
        pass  # an n8n item message or a broken body: its excerpt says what it is
    time = first.get("time") if isinstance(first, Mapping) else None
    reason = headers.get("x-first-death-reason") or (
        first.get("reason") if isinstance(first, Mapping) else None
    )
    count = first.get("count") if isinstance(first, Mapping) else None
    return DeadLetter(
        event_type=event_type,
        correlation_id=message.correlation_id or _text(headers.get("x-correlation-id")),
        reason=_text(reason),
        deaths=int(count) if isinstance(count, int) else 1,
        dead_since=time if isinstance(time, datetime) else None,
        excerpt=text[:EXCERPT_CHARS],
    )


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else None


async def depths(amqp_url: str, specs: Iterable[QueueSpec] = QUEUES.values()) -> dict[str, int]:
    """Messages waiting in each queue's DLQ (declared passively: a DLQ not declared yet, on a
    broker where its service never started, counts 0)."""
    found: dict[str, int] = {}
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for spec in sorted(specs, key=lambda s: s.name):
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(spec.dlq_name, passive=True)
                found[spec.name] = queue.declaration_result.message_count or 0
            except aio_pika.exceptions.ChannelClosed:
                found[spec.name] = 0  # a failed passive declare closes the channel
            finally:
                if not channel.is_closed:
                    await channel.close()
    return found


async def peek(amqp_url: str, spec: QueueSpec, limit: int) -> list[DeadLetter]:
    """Up to `limit` dead letters of the queue, oldest first; all of them stay in the DLQ."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.declare_queue(spec.dlq_name, passive=True)
        seen: list[AbstractIncomingMessage] = []
        while len(seen) < limit:
            message = await dlq.get(no_ack=False, fail=False)
            if message is None:
                break
            seen.append(message)
        letters = [describe(m) for m in seen]
        # Returned together once all are read: one at a time, the next get would find the
        # same message again.
        await channel.close()
    return letters


async def replay(amqp_url: str, spec: QueueSpec, limit: int | None) -> int:
    """Moves up to `limit` (all when None) dead letters of the queue back to it, oldest first.
    Returns how many were moved."""
    moved = 0
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        dlq = await channel.declare_queue(spec.dlq_name, passive=True)
        while limit is None or moved < limit:
            message = await dlq.get(no_ack=False, fail=False)
            if message is None:
                break
            headers = {k: v for k, v in (message.headers or {}).items() if k not in DEATH_HEADERS}
            # The default exchange routes by queue name: straight back to the queue it left,
            # whatever exchange and routing key first brought it there.
            await channel.default_exchange.publish(
                aio_pika.Message(
                    body=message.body,
                    headers=headers,
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    correlation_id=message.correlation_id,
                    message_id=message.message_id,
                    type=message.type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=spec.name,
            )
            await message.ack()  # only once the broker confirmed the copy
            moved += 1
    return moved
