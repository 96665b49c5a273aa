"""Sustained ingest over HTTP and AMQP, with duplicates, late samples and out-of-order batches,
and the ledger of everything Pulse acknowledged (a 200 from the webhook, a publisher confirm
from RabbitMQ): the run's promise is that every acknowledged sample is stored exactly once.

Samples have bench.feed's shape (strictly increasing observed_at and views per post), so the
numbers a campaign must end up with are known; a sender retries a request until it is
acknowledged, as n8n does, so a kill or a broker fault costs time, never samples.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx

from bench.feed import ITEM, STEP, views_of

ROUTE = "/api/ingest/posts"
RETRY_FOR_S = 300.0  # a request not acknowledged by then is abandoned (and reported)
RECENT = 5000  # items that may be sent again as duplicates


@dataclass(frozen=True, slots=True)
class Item:
    post_id: str
    observed_at: str  # ISO, milliseconds, Z: exactly as stored rows are compared
    text: str


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def item_for(post_id: str, observed: datetime, views: int) -> Item:
    at = iso(observed)
    text = ITEM % (post_id, at, views, views // 20, views // 250, views // 500, views // 400)
    return Item(post_id, at, text)


class Samples:
    """Fresh samples round robin over the posts; each batch also carries some samples held back
    from earlier batches (late: newer ones of their post went first) and some sent before
    (duplicates), all shuffled."""

    def __init__(
        self, posts: Sequence[str], rng: random.Random, *, duplicates: float, late: float
    ) -> None:
        self._posts = list(posts)
        self._k = [0] * len(self._posts)
        self._next = 0
        now = datetime.now(UTC)
        self._t0 = now.replace(microsecond=now.microsecond // 1000 * 1000) - timedelta(hours=1)
        self._rng = rng
        self._duplicates = duplicates
        self._late_share = late
        self._late: deque[Item] = deque()
        self._recent: deque[Item] = deque(maxlen=RECENT)

    def batch(self, size: int) -> list[Item]:
        fresh = max(1, round(size * (1 - self._duplicates - self._late_share)))
        items: list[Item] = []
        held: list[Item] = []
        for _ in range(fresh):
            (held if self._rng.random() < self._late_share else items).append(self._fresh())
        late_count = min(len(self._late), round(size * self._late_share))
        items += [self._late.popleft() for _ in range(late_count)]
        self._late.extend(held)
        dup_count = min(len(self._recent), round(size * self._duplicates))
        items += self._rng.sample(list(self._recent), dup_count) if dup_count else []
        self._recent.extend(items)
        self._rng.shuffle(items)
        return items

    def held_back(self) -> list[Item]:
        """What is still held back: sent at the end, after everything newer."""
        rest = list(self._late)
        self._late.clear()
        return rest

    def _fresh(self) -> Item:
        i = self._next
        self._next = (i + 1) % len(self._posts)
        k = self._k[i] = self._k[i] + 1
        return item_for(self._posts[i], self._t0 + STEP * k, views_of(k))


class Pace:
    """The run's sending rate, shared by every sender: load the system can sustain, so the
    time back to fresh numbers measures recovery, not an ever-growing backlog."""

    def __init__(self, samples_per_s: float) -> None:
        self._per_s = samples_per_s
        self._next = time.monotonic()

    async def take(self, samples: int) -> None:
        now = time.monotonic()
        start = max(self._next, now)
        self._next = start + samples / self._per_s
        await asyncio.sleep(start - now)


@dataclass
class Ledger:
    """What was sent and what Pulse acknowledged, per sample (post id, observed_at)."""

    sends: int = 0  # samples in every attempt, retries and duplicates included
    sent: set[tuple[str, str]] = field(default_factory=set)
    acked: set[tuple[str, str]] = field(default_factory=set)
    acked_sends: int = 0  # samples in acknowledged requests and messages, duplicates included
    http_requests: int = 0
    amqp_messages: int = 0
    failed_attempts: dict[str, int] = field(default_factory=dict)  # why, how often
    abandoned: int = 0  # samples whose request was never acknowledged within RETRY_FOR_S
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def attempt(self, items: Sequence[Item]) -> None:
        self.sends += len(items)
        self.sent.update((i.post_id, i.observed_at) for i in items)

    def failed(self, why: str) -> None:
        self.failed_attempts[why] = self.failed_attempts.get(why, 0) + 1

    def acknowledged(self, items: Sequence[Item], rejected: Sequence[dict[str, Any]] = ()) -> None:
        refused = {r["index"] for r in rejected}
        self.rejected.extend(rejected)
        kept = [i for n, i in enumerate(items) if n not in refused]
        self.acked_sends += len(kept)
        self.acked.update((i.post_id, i.observed_at) for i in kept)


def body_of(items: Sequence[Item]) -> bytes:
    return ('{"items":[' + ",".join(i.text for i in items) + "]}").encode()


async def deliver_http(
    client: httpx.AsyncClient, token: str, items: Sequence[Item], ledger: Ledger
) -> bool:
    """POST until a 200 (retrying with backoff, as n8n's retry-on-fail does)."""
    body, delay = body_of(items), 0.2
    give_up = time.monotonic() + RETRY_FOR_S
    while True:
        ledger.attempt(items)
        ledger.http_requests += 1
        try:
            response = await client.post(
                ROUTE,
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            ledger.failed(f"http {type(exc).__name__}")
        else:
            if response.status_code == 200:
                ledger.acknowledged(items, response.json()["rejected"])
                return True
            ledger.failed(f"http {response.status_code}")
        if time.monotonic() > give_up:
            ledger.abandoned += len(items)
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def http_sender(
    ingest_url: str,
    token: str,
    samples: Samples,
    ledger: Ledger,
    stop: asyncio.Event,
    size: int,
    pace: Pace,
) -> None:
    async with httpx.AsyncClient(base_url=ingest_url, timeout=30) as client:
        while not stop.is_set():
            await pace.take(size)
            await deliver_http(client, token, samples.batch(size), ledger)


class AmqpSender:
    """n8n's AMQP path: one message per batch on pulse.ingest with the x-pulse-key header,
    persistent, counted as acknowledged on the broker's publisher confirm."""

    def __init__(self, amqp_url: str, token: str, ledger: Ledger) -> None:
        self._url = amqp_url
        self._token = token
        self._ledger = ledger
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self._connecting = asyncio.Lock()  # one connection, however many publish at once

    async def _ready_exchange(self) -> aio_pika.abc.AbstractExchange:
        async with self._connecting:
            return await self._connected_exchange()

    async def _connected_exchange(self) -> aio_pika.abc.AbstractExchange:
        if self._connection is None:
            self._connection = await aio_pika.connect_robust(self._url, reconnect_interval=1)
        if self._exchange is None or self._channel is None or self._channel.is_closed:
            self._channel = await self._connection.channel(publisher_confirms=True)
            self._exchange = await self._channel.get_exchange("pulse.ingest")
        return self._exchange

    async def deliver(self, items: Sequence[Item]) -> bool:
        message = aio_pika.Message(
            body_of(items),
            headers={"x-pulse-key": self._token},
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        delay = 0.2
        give_up = time.monotonic() + RETRY_FOR_S
        while True:
            self._ledger.attempt(items)
            self._ledger.amqp_messages += 1
            try:
                exchange = await self._ready_exchange()
                await exchange.publish(message, routing_key="ingest.posts", timeout=15)
            except Exception as exc:  # any broker failure: the message is simply sent again
                self._ledger.failed(f"amqp {type(exc).__name__}")
                self._exchange = None
            else:
                self._ledger.acknowledged(items)
                return True
            if time.monotonic() > give_up:
                self._ledger.abandoned += len(items)
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def run(self, samples: Samples, stop: asyncio.Event, size: int, pace: Pace) -> None:
        while not stop.is_set():
            await pace.take(size)
            await self.deliver(samples.batch(size))

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
