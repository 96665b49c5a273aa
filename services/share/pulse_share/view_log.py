"""Group commit of the public views: each view's count and access-log row are written together
with the views that arrived beside it, in one statement, before any of them is answered.

A view used to cost its own transaction (BEGIN, the count's UPDATE, the log's INSERT, COMMIT:
four round trips and a WAL flush per view; bench P5). Holding views in memory and writing them
every second would lose the ones a crash catches after they were answered, so instead each
request waits for the commit of its batch (batches.py): an answered view is always stored, the
counts stay exact (a link seen k times in a batch gets +k), and a failed batch fails its
requests (each raises ViewsNotRecorded) with nothing of it written.
"""

from __future__ import annotations

from collections.abc import Sequence

from pulse_runtime.db import PoolGetter

from . import repository
from .batches import Batched, BatchFailed
from .repository import Access

__all__ = ["Access", "ViewLog", "ViewsNotRecorded"]

# Bounds one statement's arrays; at P5's rates a batch holds a few dozen views.
MAX_BATCH = 500


class ViewsNotRecorded(BatchFailed):
    """The view was not recorded (its batch failed, nothing of it was written)"""


class ViewLog:
    """One replica's writer of accesses: `record` returns once the access is committed."""

    def __init__(self, pool: PoolGetter, *, max_batch: int = MAX_BATCH) -> None:
        self._pool = pool
        self._batched: Batched[Access, None] = Batched(
            self._write, max_batch=max_batch, failure=ViewsNotRecorded
        )

    async def record(self, access: Access) -> None:
        await self._batched(access)

    async def _write(self, accesses: Sequence[Access]) -> list[None]:
        async with self._pool().acquire() as conn:
            await repository.record_accesses(conn, accesses)
        return [None] * len(accesses)
