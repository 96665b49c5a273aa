"""Transactional outbox: events commit with the state change, and a relay publishes them.

The relay is woken by LISTEN/NOTIFY (no polling delay), claims rows with FOR UPDATE SKIP
LOCKED so replicas can run side by side, publishes them concurrently with publisher confirms,
and deletes them only after every confirm arrived. While the broker is down it backs off and
retries; the rows wait in the table, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from faststream.rabbit import RabbitBroker

from pulse_contracts import Envelope

from . import tracing
from .db import Connection
from .logging import get_logger
from .topology import EVENTS

log = get_logger(__name__)


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


async def add_to_outbox(
    conn: Connection,
    schema: str,
    envelope: Envelope[Any],
    *,
    routing_key: str | None = None,
    exchange: str = EVENTS.name,
    body: bytes | None = None,
) -> None:
    """Queue `envelope` for publishing; call inside the transaction of the state change.

    `body` is the envelope's JSON when the caller serialized it already (a large document it
    also stores), so it is not serialized twice."""
    if body is None:
        await add_many_to_outbox(
            conn, schema, [envelope], routing_key=routing_key, exchange=exchange
        )
        return
    await _insert(conn, schema, [(envelope, body)], routing_key=routing_key, exchange=exchange)


async def add_many_to_outbox(
    conn: Connection,
    schema: str,
    envelopes: list[Envelope[Any]],
    *,
    routing_key: str | None = None,
    exchange: str = EVENTS.name,
) -> None:
    await _insert(
        conn,
        schema,
        [(env, env.model_dump_json().encode()) for env in envelopes],
        routing_key=routing_key,
        exchange=exchange,
    )


async def _insert(
    conn: Connection,
    schema: str,
    rows: list[tuple[Envelope[Any], bytes]],
    *,
    routing_key: str | None,
    exchange: str,
) -> None:
    await add_serialized_to_outbox(
        conn,
        schema,
        [
            SerializedEvent(env.event_id, routing_key or env.type, env.correlation_id, body)
            for env, body in rows
        ],
        exchange=exchange,
    )


async def add_serialized_to_outbox(
    conn: Connection,
    schema: str,
    events: Sequence[SerializedEvent],
    *,
    exchange: str = EVENTS.name,
) -> None:
    """`add_many_to_outbox` for envelopes their producer serialized itself: a hot path that
    builds a large event's JSON in one call (from values it has validated) rather than through
    a model per item. The producer owns the body being a valid envelope of its type."""
    if not events:
        return
    # The trace of the request or message committing these (None when tracing is off).
    parent = tracing.traceparent()
    await conn.executemany(
        f"INSERT INTO {schema}.outbox "
        "(event_id, exchange, routing_key, correlation_id, body, traceparent) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        [(e.event_id, exchange, e.routing_key, e.correlation_id, e.body, parent) for e in events],
    )
    # Delivered at commit, so the relay never wakes for a row it cannot see yet.
    await conn.execute("SELECT pg_notify($1, '')", notify_channel(schema))


@dataclass(frozen=True)
class SerializedEvent:
    event_id: UUID
    routing_key: str
    correlation_id: str
    body: bytes


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        broker: RabbitBroker,
        schema: str,
        *,
        dsn: str,
        batch_size: int = 200,
        poll_interval: float = 1.0,
        publish_timeout: float = 10.0,
        max_backoff: float = 5.0,
    ) -> None:
        self._pool = pool
        self._broker = broker
        self._schema = schema
        self._dsn = dsn
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        listener = await self._listen()
        failures = 0
        try:
            while True:
                try:
                    sent = await self.publish_pending()
                    failures = 0
                except Exception as exc:
                    # Broker down, confirm refused or database away: the rows stay pending and
                    # the next attempt publishes them; logged, not swallowed.
                    failures += 1
                    delay = min(self._max_backoff, 0.05 * 2**failures) * random.uniform(0.5, 1.0)
                    log.warning(
                        "outbox publish failed; retrying",
                        schema=self._schema,
                        error=repr(exc),
                        retry_in_s=round(delay, 3),
                    )
                    await asyncio.sleep(delay)
                    continue
                if sent >= self._batch_size:
                    continue  # more may be waiting
                if listener is None or listener.is_closed():
                    listener = await self._listen()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)
                self._wake.clear()
        finally:
            if listener is not None and not listener.is_closed():
                await listener.close()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(self._dsn)
            await conn.add_listener(notify_channel(self._schema), lambda *_: self._wake.set())
            return conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("outbox LISTEN unavailable; polling", error=repr(exc))
            return None

    async def publish_pending(self) -> int:
        """Publish one claimed batch; returns how many rows were published and removed."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT id, event_id, exchange, routing_key, correlation_id, body, traceparent "
                f"FROM {self._schema}.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch_size,
            )
            if not rows:
                return 0
            await asyncio.gather(*(self._publish(row) for row in rows))
            await conn.execute(
                f"DELETE FROM {self._schema}.outbox WHERE id = ANY($1::bigint[])",
                [row["id"] for row in rows],
            )
        self.published += len(rows)
        return len(rows)

    async def _publish(self, row: asyncpg.Record) -> None:
        # Inside the trace that committed the row: the broker's telemetry middleware makes the
        # publish span its child and carries it on in the message headers.
        with tracing.continued(row["traceparent"]):
            await self._broker.publish(
                bytes(row["body"]),
                exchange=row["exchange"],
                routing_key=row["routing_key"],
                message_id=str(row["event_id"]),
                correlation_id=row["correlation_id"],
                content_type="application/json",
                persist=True,
                timeout=self._publish_timeout,
            )


async def outbox_backlog(pool: asyncpg.Pool, schema: str) -> int:
    return int(await pool.fetchval(f"SELECT count(*) FROM {schema}.outbox"))


# Counting stops here: past it the relay is far behind anyway, and a full count of a huge
# outbox every few seconds would only add to the load.
LAG_COUNT_CAP = 100_000


async def outbox_lag(pool: asyncpg.Pool, schema: str) -> tuple[int, float]:
    """(pending events up to LAG_COUNT_CAP, age in seconds of the oldest; 0 when empty). The
    oldest is the lowest id, found through the primary key."""
    row = await pool.fetchrow(
        f"SELECT (SELECT count(*) FROM (SELECT 1 FROM {schema}.outbox LIMIT $1) AS capped),"
        f" coalesce((SELECT extract(epoch FROM clock_timestamp() - created_at)"
        f" FROM {schema}.outbox ORDER BY id LIMIT 1), 0)",
        LAG_COUNT_CAP,
    )
    assert row is not None
    return int(row[0]), max(0.0, float(row[1]))
