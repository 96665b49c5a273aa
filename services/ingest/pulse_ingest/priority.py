"""High before low: low-priority fetches wait while high-priority work is in hand or queued.

design/events.md: "consumers always drain high first"). Both queues have
their own subscriber; every fetch of a low-priority batch first passes `PriorityGate.wait_turn`,
which holds it while
  1. a high-priority command is being handled in this process (an in-process counter), or
  2. `ingest.fetch.high` still has ready messages on the broker (a passive queue declare on a
     channel of our own, which returns the queue's ready count) — those are high commands that
     no consumer has taken yet, possibly because this replica's high prefetch is full, or
     another replica's.
The check runs before each post of a low batch, not once per batch, so a start-tracking fetch
waits for at most one provider call of a batch in progress. Alternatives not taken: one
consumer loop polling both queues with basic.get adds a polling delay to every high command
and gives up the broker's push delivery; broker-side priorities do not fit, since quorum
queues (every Pulse queue is one) have no `x-max-priority` in RabbitMQ 3.13, and RabbitMQ 4's
two quorum priorities are served in a 2:1 ratio, not strictly.
If the broker check fails (channel closed, broker away) it counts as "no high backlog" — low
work is never blocked by the probe itself — and a low fetch waiting more than
`low_max_wait_s` proceeds with a warning, so a stuck high queue cannot starve refreshes
forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

import aio_pika

from pulse_runtime.logging import get_logger

log = get_logger(__name__)

HIGH_QUEUE: Final = "ingest.fetch.high"
LOW_QUEUE: Final = "ingest.fetch.low"  # scheduled refreshes of booked posts (benchmarks wait)


class QueueDepth:
    """Ready messages in a queue, by passive declare on a dedicated channel."""

    def __init__(self, amqp_url: str, queue: str) -> None:
        self._url = amqp_url
        self._queue = queue
        self._connection: Any = None
        self._channel: Any = None
        self._warned = False

    async def __call__(self) -> int:
        try:
            if self._connection is None:
                self._connection = await aio_pika.connect_robust(self._url)
            if self._channel is None or self._channel.is_closed:
                self._channel = await self._connection.channel()
            # robust=False: a robust channel would cache the first declaration and return its
            # stale count forever after.
            queue = await self._channel.declare_queue(self._queue, passive=True, robust=False)
            count = queue.declaration_result.message_count
            self._warned = False
            return int(count or 0)
        except Exception as exc:  # the probe must never block low-priority work
            self._channel = None
            if not self._warned:
                log.warning("high queue depth unavailable", queue=self._queue, error=repr(exc))
                self._warned = True
            return 0

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = self._channel = None


class PriorityGate:
    """Low-priority fetches wait while high-priority work is in hand or waiting on the broker."""

    def __init__(
        self,
        high_backlog: Callable[[], Awaitable[int]] | None = None,
        *,
        poll_s: float = 0.05,
        max_wait_s: float = 60.0,
    ) -> None:
        self._high_backlog = high_backlog
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._poll_s = poll_s
        self._max_wait_s = max_wait_s
        self.waited = 0  # low fetches that had to wait (observability and tests)

    @property
    def high_active(self) -> int:
        return self._active

    @contextlib.asynccontextmanager
    async def high(self) -> AsyncIterator[None]:
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    async def wait_turn(self) -> None:
        deadline = time.monotonic() + self._max_wait_s
        waited = False
        while True:
            if self._active:
                waited = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._idle.wait(), timeout=max(0.0, deadline - time.monotonic())
                    )
            backlog = await self._high_backlog() if self._high_backlog is not None else 0
            if self._active == 0 and backlog == 0:
                break
            if time.monotonic() >= deadline:
                log.warning("low-priority fetch waited too long for high; proceeding")
                break
            if backlog:
                waited = True
                await asyncio.sleep(self._poll_s)
        if waited:
            self.waited += 1
