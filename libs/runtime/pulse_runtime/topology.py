"""The broker topology, declared from this one source at start-up and exported for ops.

`python -m pulse_runtime.topology` prints deploy/rabbitmq/definitions.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue

if TYPE_CHECKING:
    from faststream.rabbit.schemas.queue import QuorumQueueArgs

EVENTS = RabbitExchange("pulse.events", type=ExchangeType.TOPIC, durable=True)
INGEST = RabbitExchange("pulse.ingest", type=ExchangeType.TOPIC, durable=True)
DLX = RabbitExchange("pulse.dlx", type=ExchangeType.DIRECT, durable=True)
EXCHANGES = (EVENTS, INGEST, DLX)

DEFAULT_DELIVERY_LIMIT = 5
INGEST_ROUTING_KEY = "ingest.posts"


@dataclass(frozen=True)
class QueueSpec:
    """One consumer group's durable quorum queue `<service>.<purpose>` and its DLQ."""

    name: str
    binding: str  # the subscriber binds this one as it starts
    exchange: RabbitExchange = EVENTS
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT
    # More routing keys, for a queue that takes some events of a family but not all of them.
    more_bindings: tuple[str, ...] = ()
    # Keys this queue was bound by in an earlier release: bindings outlive the code that made
    # them, so start-up removes these (a no-op once they are gone).
    retired_bindings: tuple[str, ...] = ()

    @property
    def bindings(self) -> tuple[str, ...]:
        return (self.binding, *self.more_bindings)

    @property
    def dlq_name(self) -> str:
        return f"{self.name}.dlq"

    @property
    def arguments(self) -> dict[str, Any]:
        return {
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": DLX.name,
            # Route by queue name so each queue's dead letters land in its own DLQ.
            "x-dead-letter-routing-key": self.name,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    def queue(self) -> RabbitQueue:
        # The x-dead-letter-routing-key argument is valid for quorum queues but absent from
        # FastStream's QuorumQueueArgs TypedDict, hence the cast.
        arguments = cast("QuorumQueueArgs", self.arguments)
        queue: RabbitQueue = RabbitQueue(
            self.name, queue_type=QueueType.QUORUM, routing_key=self.binding, arguments=arguments
        )
        return queue

    def dlq(self) -> RabbitQueue:
        queue: RabbitQueue = RabbitQueue(
            self.dlq_name, queue_type=QueueType.QUORUM, routing_key=self.name
        )
        return queue


# Every consumer queue of every service. Replicas of a service compete on the same queue.
QUEUES: dict[str, QueueSpec] = {
    spec.name: spec
    for spec in (
        QueueSpec("ingest.catalog", "catalog.#"),
        QueueSpec("ingest.items", INGEST_ROUTING_KEY, exchange=INGEST),
        QueueSpec("ingest.fetch.high", "ingest.fetch.high"),
        QueueSpec("ingest.fetch.low", "ingest.fetch.low"),
        QueueSpec("aggregator.catalog", "catalog.#"),
        QueueSpec("aggregator.posts", "post.pulled"),
        QueueSpec("alerter.catalog", "catalog.#"),
        QueueSpec("alerter.kpi", "kpi.updated"),
        # Not post.pulled: the alerter reads each post's newest sample time and posted_at from
        # kpi.updated, which lists them, instead of decoding every sample a second time.
        QueueSpec(
            "alerter.posts",
            "post.pull_failed",
            more_bindings=("post.comments_scored",),
            retired_bindings=("post.*",),
        ),
        # Notifications follow the alerts themselves, so a slow channel never holds up a rule.
        QueueSpec("alerter.notify", "alert.*"),
        # The gateway's read model of the numbers (each replica also sees them live).
        QueueSpec("gateway.numbers", "kpi.updated"),
        QueueSpec("share.catalog", "catalog.#"),
        QueueSpec("share.kpi", "kpi.updated"),
        # Report jobs: renders are long, so each replica takes one at a time (reporter's prefetch).
        QueueSpec("reporter.jobs", "report.requested"),
        # Each requester keeps its own rows of its jobs' state.
        QueueSpec("gateway.reports", "report.progressed"),
        QueueSpec("share.reports", "report.progressed"),
    )
}


async def declare_topology(broker: RabbitBroker, specs: list[QueueSpec]) -> None:
    """Exchanges, and each queue's DLQ before the queue itself (so nothing dead-letters to void)."""
    await declare_dead_letters(broker, specs)
    for spec in specs:
        queue = await broker.declare_queue(spec.queue())
        exchange = await broker.declare_exchange(spec.exchange)
        for key in spec.bindings:
            await queue.bind(exchange, routing_key=key)
        for key in spec.retired_bindings:
            await queue.unbind(exchange, routing_key=key)


async def declare_dead_letters(broker: RabbitBroker, specs: list[QueueSpec]) -> None:
    """The exchanges and each queue's DLQ, bound: what must exist before a subscriber starts.

    Apart from `declare_topology` because FastStream remembers a declared queue with the channel
    it was declared on: a queue declared here on the default channel would be consumed there too,
    whatever channel (and prefetch) its subscriber asked for. So a service declares this first,
    starts its subscribers (each declares and binds its queue on its own channel), then
    `declare_topology` (idempotent; it creates any queue no subscriber declared)."""
    for exchange in EXCHANGES:
        await broker.declare_exchange(exchange)
    dlx = await broker.declare_exchange(DLX)
    for spec in specs:
        dlq = await broker.declare_queue(spec.dlq())
        await dlq.bind(dlx, routing_key=spec.name)


def definitions(vhost: str = "/") -> dict[str, Any]:
    """RabbitMQ definitions (management import format) for the whole topology."""
    exchanges: list[dict[str, Any]] = [
        {
            "name": ex.name,
            "vhost": vhost,
            "type": ex.type.value,
            "durable": True,
            "auto_delete": False,
            "internal": False,
            "arguments": {},
        }
        for ex in EXCHANGES
    ]
    queues: list[dict[str, Any]] = []
    bindings: list[dict[str, Any]] = []
    for spec in QUEUES.values():
        queues.append(_queue_def(spec.dlq_name, {"x-queue-type": "quorum"}, vhost))
        queues.append(_queue_def(spec.name, {"x-queue-type": "quorum", **spec.arguments}, vhost))
        bindings.append(_binding(DLX.name, spec.dlq_name, spec.name, vhost))
        bindings.extend(_binding(spec.exchange.name, spec.name, k, vhost) for k in spec.bindings)
    return {
        "vhosts": [{"name": vhost}],
        "exchanges": exchanges,
        "queues": queues,
        "bindings": bindings,
    }


def _queue_def(name: str, arguments: dict[str, Any], vhost: str) -> dict[str, Any]:
    return {
        "name": name,
        "vhost": vhost,
        "durable": True,
        "auto_delete": False,
        "arguments": arguments,
    }


def _binding(source: str, queue: str, key: str, vhost: str) -> dict[str, Any]:
    return {
        "source": source,
        "vhost": vhost,
        "destination": queue,
        "destination_type": "queue",
        "routing_key": key,
        "arguments": {},
    }


def main() -> None:
    print(json.dumps(definitions(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
