"""Handle messages that arrive together as one batch, while each keeps its own outcome.

Why: every n8n message on pulse.ingest used to cost its own connection, transaction, post
lookup and insert, and the broker delivers them faster than that (design/events.md: the
per-message cost is the ceiling). A subscriber hands its message to `Batcher.submit` and waits;
one worker takes everything that has arrived (at most `max_batch`), handles it in one call, and
answers each waiting subscriber with its own result. Nothing waits for a batch to fill: an idle
worker starts on the first message at once, and whatever arrives while it works forms the next
batch, so batches grow exactly as fast as the load does.

Acks stay per message: a subscriber returns (ack) or raises (nack, redelivered, then
dead-lettered) with its own outcome. When a whole batch fails, every message is tried again on
its own, so one poison message is the only one nacked and never takes its neighbours to the
dead-letter queue with it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from pulse_runtime.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    def __init__(
        self,
        handle: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        max_batch: int = 100,
        name: str = "batch",
    ) -> None:
        """`handle` takes several messages and returns one result per message, in order."""
        self._handle = handle
        self._max = max(1, max_batch)
        self._name = name
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0  # batches handled (observability and tests)
        self.largest = 0

    async def submit(self, message: T) -> R:
        """The message's own result, or its own exception."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((message, future))
        if self._worker is None or self._worker.done():
            # Started on demand and gone when idle: no task outlives the work it was for.
            self._worker = asyncio.create_task(self._work(), name=f"{self._name}-batcher")
        return await future

    async def _work(self) -> None:
        while self._waiting:
            taken, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
            live = [(m, f) for m, f in taken if not f.done()]  # a cancelled subscriber
            if not live:
                continue
            self.batches += 1
            self.largest = max(self.largest, len(live))
            try:
                results = await self._handle([m for m, _ in live])
                if len(results) != len(live):
                    raise RuntimeError(f"{len(results)} results for {len(live)} messages")
            except asyncio.CancelledError:
                for _, future in live:
                    future.cancel()
                raise
            except Exception:
                if len(live) == 1:
                    await self._settle_alone(*live[0])
                    continue
                log.warning(
                    "batch failed; handling its messages one by one",
                    batcher=self._name,
                    messages=len(live),
                    exc_info=True,
                )
                for message, future in live:
                    await self._settle_alone(message, future)
                continue
            for (_, future), result in zip(live, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _settle_alone(self, message: T, future: asyncio.Future[R]) -> None:
        try:
            (result,) = await self._handle([message])
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(result)

    async def close(self) -> None:
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
