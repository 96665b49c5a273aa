"""Delivery guarantees on real PostgreSQL and RabbitMQ: outbox through an outage, inbox
dedupe, and poison messages dead-lettered while the queue keeps flowing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import pytest
from faststream.rabbit import RabbitBroker

from pulse_contracts import ContractError, Envelope, EventData, make_event
from pulse_contracts.catalog import OrganizationUpserted
from pulse_runtime.db import create_pool
from pulse_runtime.inbox import first_delivery
from pulse_runtime.messaging import (
    EventHandler,
    create_broker,
    subscribe_events,
    subscribe_events_with_body,
)
from pulse_runtime.migrations import apply_migrations, ensure_role_and_schema
from pulse_runtime.outbox import OutboxRelay, add_to_outbox
from pulse_runtime.settings import with_user
from pulse_runtime.topology import EVENTS, QueueSpec, declare_topology
from tests.support.catalog import wait_for
from tests.support.proxy import TcpProxy
from tests.support.servers import Servers

pytestmark = pytest.mark.integration
SCHEMA = "relaytest"


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    await ensure_role_and_schema(servers.database_url, role="pulse_relaytest", schema=SCHEMA)
    dsn = with_user(servers.database_url, "pulse_relaytest")
    empty = Path(__file__).parent / "no_migrations"
    await apply_migrations(dsn, schema=SCHEMA, directory=empty)
    created = await create_pool(dsn)
    yield created
    await created.close()


def _event(name: str = "Acme") -> Envelope[EventData]:
    data = OrganizationUpserted(id=uuid4(), name=name, updated_at=datetime.now(UTC))
    return make_event(data, org_id=data.id, producer="test")


async def _bound_queue(
    amqp_url: str, routing_key: str
) -> tuple[aio_pika.abc.AbstractRobustConnection, aio_pika.abc.AbstractQueue]:
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        EVENTS.name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(f"probe.{uuid4().hex[:8]}", exclusive=True)
    await queue.bind(exchange, routing_key=routing_key)
    return connection, queue


async def _drain(queue: aio_pika.abc.AbstractQueue, want: int, timeout: float) -> list[str]:
    seen: list[str] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(seen) < want and asyncio.get_running_loop().time() < deadline:
        message = await queue.get(fail=False)
        if message is None:
            await asyncio.sleep(0.05)
            continue
        await message.ack()
        seen.append(str(message.message_id))
    return seen


async def test_outbox_keeps_events_through_a_broker_outage_and_publishes_all_after(
    pool: asyncpg.Pool, servers: Servers
) -> None:
    probe_connection, probe = await _bound_queue(servers.amqp_url, "catalog.organization.upserted")
    target = urlsplit(servers.amqp_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5672)
    await proxy.start()
    through_proxy = urlunsplit(
        target._replace(netloc=f"{target.username}:{target.password}@127.0.0.1:{proxy.port}")
    )
    broker = create_broker(through_proxy)
    await broker.connect()
    relay = OutboxRelay(
        pool,
        broker,
        SCHEMA,
        dsn=with_user(servers.database_url, "pulse_relaytest"),
        publish_timeout=1.0,
        max_backoff=0.5,
    )
    task = asyncio.create_task(relay.run())
    try:
        before = [_event() for _ in range(5)]
        async with pool.acquire() as conn, conn.transaction():
            for env in before:
                await add_to_outbox(conn, SCHEMA, env)
        assert sorted(await _drain(probe, 5, 10)) == sorted(str(e.event_id) for e in before)

        await proxy.cut()
        during = [_event() for _ in range(40)]
        async with pool.acquire() as conn, conn.transaction():
            for env in during:
                await add_to_outbox(conn, SCHEMA, env)
        await asyncio.sleep(2.0)
        pending = await pool.fetchval(f"SELECT count(*) FROM {SCHEMA}.outbox")
        assert pending == 40, "nothing may leave the outbox while the broker is unreachable"

        await proxy.start()
        delivered = await _drain(probe, 40, 30)
        assert set(delivered) == {str(e.event_id) for e in during}

        # The relay deletes a row once the broker confirmed it, which can be after the probe
        # already holds the message: wait for the deletes rather than race them.
        async def emptied() -> bool | None:
            return None if await pool.fetchval(f"SELECT count(*) FROM {SCHEMA}.outbox") else True

        await wait_for(emptied, 10, "the relay to delete every confirmed row", step=0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await broker.stop()
        await proxy.cut()
        await probe_connection.close()


async def test_a_rolled_back_transaction_publishes_nothing(pool: asyncpg.Pool) -> None:
    env = _event()
    with contextlib.suppress(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await add_to_outbox(conn, SCHEMA, env)
            raise RuntimeError("the state change failed")
    assert (
        await pool.fetchval(
            f"SELECT count(*) FROM {SCHEMA}.outbox WHERE event_id = $1", env.event_id
        )
        == 0
    )


async def test_inbox_accepts_an_event_id_once(pool: asyncpg.Pool) -> None:
    event_id = uuid4()
    async with pool.acquire() as conn:
        assert await first_delivery(conn, SCHEMA, event_id, "x") is True
        assert await first_delivery(conn, SCHEMA, event_id, "x") is False


async def _wait(predicate: object, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)


async def _consume(broker: RabbitBroker, spec: QueueSpec, handle: EventHandler) -> None:
    subscribe_events(broker, spec, handle)
    await broker.connect()
    await declare_topology(broker, [spec])
    await broker.start()


async def test_poison_message_reaches_the_dlq_after_the_delivery_limit_and_the_queue_keeps_flowing(
    servers: Servers,
) -> None:
    spec = QueueSpec(f"test.poison.{uuid4().hex[:6]}", "test.poison.#", delivery_limit=3)
    broker: RabbitBroker = create_broker(servers.amqp_url)
    attempts: dict[UUID, int] = {}
    handled: list[UUID] = []

    async def handle(envelope: Envelope[EventData]) -> None:
        attempts[envelope.event_id] = attempts.get(envelope.event_id, 0) + 1
        assert isinstance(envelope.data, OrganizationUpserted)
        if envelope.data.name == "poison":
            raise RuntimeError("this message always fails")
        handled.append(envelope.event_id)

    await _consume(broker, spec, handle)
    connection = await aio_pika.connect_robust(servers.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange(EVENTS.name)
        poison, good = _event("poison"), [_event() for _ in range(5)]
        for env in [poison, *good]:
            await exchange.publish(
                aio_pika.Message(env.model_dump_json().encode(), message_id=str(env.event_id)),
                routing_key="test.poison.x",
            )
        await exchange.publish(
            aio_pika.Message(b"{not json", message_id="garbage"), routing_key="test.poison.x"
        )
        dlq = await channel.get_queue(spec.dlq_name)
        dead = await _drain(dlq, 2, 30)
        await _wait(lambda: len(handled) == 5, 10)

        assert set(dead) == {str(poison.event_id), "garbage"}
        assert set(handled) == {e.event_id for e in good}, "good messages flow past the poison one"
        # Redelivered until the limit, then dead-lettered, never dropped.
        assert attempts[poison.event_id] >= spec.delivery_limit
    finally:
        await connection.close()
        await broker.stop()


async def test_a_message_failing_while_the_database_is_briefly_gone_is_not_dead_lettered(
    servers: Servers,
) -> None:
    """Found by `make chaos`: during a 2-second PostgreSQL restart a handler failed with
    connection errors on every delivery, the queue's limit was used up in about a second and a
    good message went to the DLQ. A connection failure now waits before its nack."""
    spec = QueueSpec(f"test.outage.{uuid4().hex[:6]}", "test.outage.#", delivery_limit=3)
    broker: RabbitBroker = create_broker(servers.amqp_url)
    outage_until = asyncio.get_running_loop().time() + 3.0
    attempts: list[float] = []
    handled: list[UUID] = []

    async def handle(envelope: Envelope[EventData]) -> None:
        attempts.append(asyncio.get_running_loop().time())
        if asyncio.get_running_loop().time() < outage_until:
            raise ConnectionRefusedError(111, "Connection refused")  # PostgreSQL restarting
        handled.append(envelope.event_id)

    await _consume(broker, spec, handle)
    connection = await aio_pika.connect_robust(servers.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange(EVENTS.name)
        event = _event("through a restart")
        await exchange.publish(
            aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.event_id)),
            routing_key="test.outage.x",
        )
        await _wait(lambda: bool(handled), 30)
        dlq = await channel.get_queue(spec.dlq_name)
        assert await dlq.get(fail=False) is None
        assert handled == [event.event_id]
        assert len(attempts) <= spec.delivery_limit
    finally:
        await connection.close()
        await broker.stop()


async def test_a_body_its_handler_finds_against_the_contract_goes_to_the_dlq_at_once(
    servers: Servers,
) -> None:
    """A consumer given the body (subscribe_events_with_body) may decode more of it itself;
    a ContractError from that decoding is a bad message, not a failure to retry: dead-lettered
    on its first delivery, while the body and the narrow envelope reach the handler as sent."""
    spec = QueueSpec(f"test.body.{uuid4().hex[:6]}", "test.body.#", delivery_limit=5)
    broker: RabbitBroker = create_broker(servers.amqp_url)
    attempts: dict[str, int] = {}
    bodies: list[bytes] = []

    async def handle(envelope: Envelope[EventData], body: bytes) -> None:
        assert isinstance(envelope.data, OrganizationUpserted)
        attempts[envelope.data.name] = attempts.get(envelope.data.name, 0) + 1
        if envelope.data.name == "refused":
            raise ContractError("invalid organization.upserted data: name: refused")
        bodies.append(body)

    subscribe_events_with_body(broker, spec, handle)
    await broker.connect()
    await declare_topology(broker, [spec])
    await broker.start()
    connection = await aio_pika.connect_robust(servers.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange(EVENTS.name)
        refused, good = _event("refused"), _event("good")
        for env in (refused, good):
            await exchange.publish(
                aio_pika.Message(env.model_dump_json().encode(), message_id=str(env.event_id)),
                routing_key="test.body.x",
            )
        dead = await _drain(await channel.get_queue(spec.dlq_name), 1, 30)
        await _wait(lambda: bool(bodies), 10)
        assert dead == [str(refused.event_id)]
        assert attempts["refused"] == 1, "a refused body is not redelivered"
        assert bodies == [good.model_dump_json().encode()]
    finally:
        await connection.close()
        await broker.stop()


async def test_a_queue_takes_every_key_it_is_bound_by_and_none_it_was_bound_by_before(
    servers: Servers,
) -> None:
    """A queue narrowed in a later release (alerter.posts stopped taking post.pulled): start-up
    binds its keys and removes the retired one an earlier release left on the broker."""
    name, family = f"test.narrowed.{uuid4().hex[:6]}", f"test{uuid4().hex[:6]}"
    before = QueueSpec(name, f"{family}.*")
    after = QueueSpec(
        name,
        f"{family}.failed",
        more_bindings=(f"{family}.scored",),
        retired_bindings=(f"{family}.*",),
    )
    broker: RabbitBroker = create_broker(servers.amqp_url)
    await broker.connect()
    connection = await aio_pika.connect_robust(servers.amqp_url)
    try:
        await declare_topology(broker, [before])
        await declare_topology(broker, [after])
        await declare_topology(broker, [after])  # again, as every replica's start-up does
        channel = await connection.channel()
        exchange = await channel.get_exchange(EVENTS.name)
        for kind in ("pulled", "failed", "scored", "pulled"):
            await exchange.publish(
                aio_pika.Message(b"{}", message_id=kind), routing_key=f"{family}.{kind}"
            )
        queue = await channel.get_queue(name)
        assert sorted(await _drain(queue, 3, 2)) == ["failed", "scored"]
    finally:
        with contextlib.suppress(Exception):
            channel = await connection.channel()
            await channel.queue_delete(name)
            await channel.queue_delete(f"{name}.dlq")
        await connection.close()
        await broker.stop()
