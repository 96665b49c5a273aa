"""Calls that wait for one another: the requests arriving while one batch runs make the next,
and each request gets its own result once its batch is done (group commit, as PostgreSQL's).

Batches form on their own, with no timer: one batch runs at a time per replica, so a lone
request runs at once and waits no longer than it did alone, while under load the requests
arriving during one round trip share the next. A request never joins a batch already running:
what it reads or writes is read or written after it arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class BatchFailed(RuntimeError):
    """The batch holding this request failed as a whole; the cause is chained."""


class Batched(Generic[T, R]):
    """`await batched(item)` runs `run` on the items waiting beside it and returns this one's
    result (`run` answers one result per item, in order). When `run` raises, every request of
    that batch raises `failure` (chained to the cause): none of them is answered as if it
    had succeeded."""

    def __init__(
        self,
        run: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        max_batch: int,
        failure: type[BatchFailed] = BatchFailed,
    ) -> None:
        self._run = run
        self._max_batch = max_batch
        self._failure = failure
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        result: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, result))
        if self._runner is None or self._runner.done():
            # A task of its own, not the request's: a client hanging up must not cancel the
            # statement that serves the other requests of its batch.
            self._runner = asyncio.create_task(self._run_batches())
        # A request cancelled here cancels only its own future (no shield needed): its item
        # stays in its batch and is still run, and the runner skips answering it.
        return await result

    async def _run_batches(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                results = await self._run([item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(results)} results for {len(batch)} items")
            except BaseException as exc:
                self._fail(batch, exc)
                if not isinstance(exc, Exception):  # cancelled: the service is stopping
                    self._fail(self._waiting, exc)
                    self._waiting.clear()
                    raise
                continue
            for (_, waiting), value in zip(batch, results, strict=True):
                if not waiting.done():
                    waiting.set_result(value)

    def _fail(self, batch: list[tuple[T, asyncio.Future[R]]], cause: BaseException) -> None:
        for _, waiting in batch:
            if not waiting.done():
                error = self._failure(f"{self._failure.__doc__ or 'failed'}: {cause!r}")
                error.__cause__ = cause
                waiting.set_exception(error)
