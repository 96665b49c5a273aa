"""`pulse dlq`: an operator sees what waits in a dead-letter queue without losing it by
looking, and replays it to its queue once the cause is fixed, with nothing lost or doubled.

The messages are dead-lettered by RabbitMQ itself (rejected without requeue), in a queue of
this test's own declared exactly as the services declare theirs, so no running consumer takes
the replayed messages before the test counts them."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest

from pulse_gateway import dead_letters
from pulse_runtime.messaging import create_broker
from pulse_runtime.topology import EVENTS, QUEUES, QueueSpec, declare_topology
from tests.support.servers import Servers

pytestmark = pytest.mark.integration


@pytest.fixture
async def spec(servers: Servers) -> AsyncIterator[QueueSpec]:
    name = f"dlqtest.{uuid.uuid4().hex[:8]}"
    queue = QueueSpec(name, name)
    broker = create_broker(servers.amqp_url)
    await broker.connect()
    try:
        await declare_topology(broker, [queue])
    finally:
        await broker.stop()
    yield queue
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue.name)
        await channel.queue_delete(queue.dlq_name)


async def _waiting(amqp_url: str, name: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        return queue.declaration_result.message_count or 0


async def _dead_letter(amqp_url: str, spec: QueueSpec, bodies: list[bytes]) -> None:
    """Publish through the events exchange as a service would, then fail each delivery."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(EVENTS.name)
        for n, body in enumerate(bodies):
            await exchange.publish(
                aio_pika.Message(body, correlation_id=f"req-{n}", headers={"x-pulse-n": n}),
                routing_key=spec.binding,
            )
        queue = await channel.declare_queue(spec.name, passive=True)
        for _ in bodies:
            message = await queue.get(no_ack=False, timeout=10)
            assert message is not None
            await message.reject(requeue=False)
    for _ in range(100):
        if await _waiting(amqp_url, spec.dlq_name) == len(bodies):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the rejected messages never reached the DLQ")


def _event(n: int) -> bytes:
    return json.dumps({"type": "post.pulled", "data": {"n": n}}).encode()


async def test_peeking_keeps_every_dead_letter_and_says_why_it_died(
    servers: Servers, spec: QueueSpec
) -> None:
    await _dead_letter(servers.amqp_url, spec, [_event(n) for n in range(3)])

    letters = await dead_letters.peek(servers.amqp_url, spec, limit=2)

    assert [(d.event_type, d.correlation_id, d.reason) for d in letters] == [
        ("post.pulled", "req-0", "rejected"),
        ("post.pulled", "req-1", "rejected"),
    ]
    assert json.loads(letters[0].excerpt) == {"type": "post.pulled", "data": {"n": 0}}
    assert await _waiting(servers.amqp_url, spec.dlq_name) == 3, "looking lost a message"
    counts = await dead_letters.depths(servers.amqp_url, [spec, QUEUES["share.kpi"]])
    assert counts[spec.name] == 3


async def test_replay_moves_each_dead_letter_back_once_in_order(
    servers: Servers, spec: QueueSpec
) -> None:
    bodies = [_event(n) for n in range(4)]
    await _dead_letter(servers.amqp_url, spec, bodies)

    assert await dead_letters.replay(servers.amqp_url, spec, limit=1) == 1
    assert await dead_letters.replay(servers.amqp_url, spec, limit=None) == 3
    assert await dead_letters.replay(servers.amqp_url, spec, limit=None) == 0

    assert await _waiting(servers.amqp_url, spec.dlq_name) == 0
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(spec.name, passive=True)
        back = []
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            back.append(message)
    assert [m.body for m in back] == bodies
    assert [m.correlation_id for m in back] == [f"req-{n}" for n in range(4)]
    assert all("x-death" not in (m.headers or {}) for m in back)
    assert [(m.headers or {}).get("x-pulse-n") for m in back] == [0, 1, 2, 3]


def _pulse(service_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pulse_gateway.cli", "dlq", *args],
        env=service_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_lists_every_queue_and_names_an_unknown_one(
    service_env: dict[str, str],
) -> None:
    listed = _pulse(service_env, "list")
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == sorted(f"{name}.dlq" for name in QUEUES)

    unknown = _pulse(service_env, "show", "aggregator.nosuch")
    assert unknown.returncode == 1
    assert "no queue named 'aggregator.nosuch'" in unknown.stderr
    assert "aggregator.posts" in unknown.stderr, "the answer lists the queues there are"
