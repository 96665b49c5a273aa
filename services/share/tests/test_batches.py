"""batches.Batched, the group commit under the share views: requests arriving while a batch runs
make the next one, each gets its own result, and a failed batch fails every request in it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from pulse_share.batches import Batched, BatchFailed


class Recorder:
    """A stand-in for the database statement: records each batch, can be held or made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_on: int | None = None

    async def run(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        await self.gate.wait()
        if self.fail_on is not None and self.fail_on in items:
            raise ValueError("the statement failed")
        return [i * 10 for i in items]


async def test_a_lone_request_runs_at_once_and_gets_its_result() -> None:
    recorder = Recorder()
    batched = Batched(recorder.run, max_batch=100)
    assert await batched(7) == 70
    assert recorder.batches == [[7]]


async def test_requests_arriving_while_a_batch_runs_share_the_next_batch() -> None:
    recorder = Recorder()
    batched = Batched(recorder.run, max_batch=100)
    recorder.gate.clear()
    first = asyncio.create_task(batched(1))
    await asyncio.sleep(0.01)  # the first batch is running (held at the gate)
    rest = [asyncio.create_task(batched(i)) for i in range(2, 7)]
    await asyncio.sleep(0.01)
    assert recorder.batches == [[1]]  # nobody joined the batch already running
    recorder.gate.set()
    assert await first == 10
    assert await asyncio.gather(*rest) == [20, 30, 40, 50, 60]
    assert recorder.batches == [[1], [2, 3, 4, 5, 6]]


async def test_batches_are_bounded_and_run_one_after_another() -> None:
    recorder = Recorder()
    batched = Batched(recorder.run, max_batch=2)
    assert await asyncio.gather(*(batched(i) for i in range(5))) == [0, 10, 20, 30, 40]
    assert recorder.batches == [[0, 1], [2, 3], [4]]


class Failed(BatchFailed):
    """Not written"""


async def test_a_failed_batch_fails_every_request_in_it_and_the_next_batch_runs() -> None:
    recorder = Recorder()
    batched = Batched(recorder.run, max_batch=100, failure=Failed)
    recorder.fail_on = 3
    answers = await asyncio.gather(*(batched(i) for i in (1, 2, 3)), return_exceptions=True)
    assert recorder.batches == [[1, 2, 3]]
    assert all(isinstance(a, Failed) for a in answers), answers
    assert all(isinstance(a.__cause__, ValueError) for a in answers if isinstance(a, Failed))
    # Not silently: each request raises; and the writer goes on with later requests.
    assert await batched(4) == 40


async def test_a_request_that_goes_away_does_not_cancel_its_batch() -> None:
    recorder = Recorder()
    batched = Batched(recorder.run, max_batch=100)
    recorder.gate.clear()
    leaving = asyncio.create_task(batched(1))
    staying = asyncio.create_task(batched(2))
    await asyncio.sleep(0.01)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    recorder.gate.set()
    assert await staying == 20
    assert recorder.batches == [[1, 2]]


async def test_a_wrong_number_of_results_fails_the_batch() -> None:
    async def short(items: Sequence[int]) -> list[int]:
        return [0]

    batched = Batched(short, max_batch=100)
    answers = await asyncio.gather(batched(1), batched(2), return_exceptions=True)
    assert all(isinstance(a, BatchFailed) for a in answers), answers
