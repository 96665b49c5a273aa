"""The token cache's bound and the batcher's per-message outcomes (pure, no I/O)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import uuid4

import pytest

from pulse_ingest.batching import Batcher
from pulse_ingest.tokens import MAX_TTL_S, TokenCache, token_digest


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- tokens ----------------------------------------------------------------------------------


def test_a_token_is_remembered_for_the_ttl_and_no_longer() -> None:
    clock = Clock()
    cache = TokenCache(ttl_s=5, clock=clock)
    digest, org = token_digest("pulse_ingest_a"), uuid4()
    assert cache.org_for(digest) is None
    cache.remember(digest, token_id=uuid4(), org_id=org)
    clock.now += 4.9
    assert cache.org_for(digest) == org
    clock.now += 0.2
    assert cache.org_for(digest) is None, "a revoked token must stop working within the TTL"
    assert len(cache) == 0


def test_a_changed_or_revoked_token_is_forgotten_at_once() -> None:
    cache = TokenCache(ttl_s=5, clock=Clock())
    token_id, other_id = uuid4(), uuid4()
    cache.remember(token_digest("a"), token_id=token_id, org_id=uuid4())
    cache.remember(token_digest("b"), token_id=other_id, org_id=uuid4())
    cache.forget(token_id)
    assert cache.org_for(token_digest("a")) is None
    assert cache.org_for(token_digest("b")) is not None


def test_the_ttl_is_bounded_and_zero_disables_the_cache() -> None:
    assert TokenCache(ttl_s=3600).ttl_s == MAX_TTL_S
    off = TokenCache(ttl_s=0)
    off.remember(token_digest("a"), token_id=uuid4(), org_id=uuid4())
    assert off.org_for(token_digest("a")) is None


def test_the_cache_holds_at_most_its_bound_oldest_out_first() -> None:
    cache = TokenCache(max_entries=2, clock=Clock())
    for name in ("a", "b", "c"):
        cache.remember(token_digest(name), token_id=uuid4(), org_id=uuid4())
    assert len(cache) == 2
    assert cache.org_for(token_digest("a")) is None
    assert cache.org_for(token_digest("c")) is not None


# --- the batcher -----------------------------------------------------------------------------


async def test_messages_arriving_together_are_handled_together_each_with_its_result() -> None:
    calls: list[list[int]] = []

    async def handle(messages: Sequence[int]) -> list[int]:
        calls.append(list(messages))
        await asyncio.sleep(0.01)  # the database's time: more messages arrive meanwhile
        return [m * 10 for m in messages]

    batcher: Batcher[int, int] = Batcher(handle, max_batch=8)
    results = await asyncio.gather(*(batcher.submit(m) for m in range(20)))
    assert results == [m * 10 for m in range(20)]
    assert sorted(m for call in calls for m in call) == list(range(20))
    assert max(len(call) for call in calls) == 8, "batches form, up to the bound"
    assert len(calls) < 20


async def test_a_failing_batch_is_retried_message_by_message_so_only_the_poison_one_fails() -> None:
    calls: list[list[int]] = []

    async def handle(messages: Sequence[int]) -> list[int]:
        calls.append(list(messages))
        await asyncio.sleep(0)
        if 13 in messages:
            raise RuntimeError("cannot store message 13")
        return list(messages)

    batcher: Batcher[int, int] = Batcher(handle, max_batch=50)
    outcomes = await asyncio.gather(
        *(batcher.submit(m) for m in (11, 12, 13, 14)), return_exceptions=True
    )
    assert outcomes[:2] == [11, 12]
    assert isinstance(outcomes[2], RuntimeError)
    assert outcomes[3] == 14
    assert calls[0] == [11, 12, 13, 14]
    assert calls[1:] == [[11], [12], [13], [14]], "retried one by one"


async def test_an_idle_batcher_keeps_no_task_and_starts_again_on_demand() -> None:
    async def handle(messages: Sequence[str]) -> list[str]:
        return [m.upper() for m in messages]

    batcher: Batcher[str, str] = Batcher(handle)
    assert await batcher.submit("a") == "A"
    await asyncio.sleep(0)
    assert batcher._worker is None or batcher._worker.done()
    assert await batcher.submit("b") == "B"
    await batcher.close()


async def test_a_handler_answering_the_wrong_number_of_results_fails_each_message_alone() -> None:
    async def handle(messages: Sequence[int]) -> list[int]:
        await asyncio.sleep(0)
        return [0]  # one result, whatever was asked

    batcher: Batcher[int, int] = Batcher(handle)
    outcomes = await asyncio.gather(batcher.submit(1), batcher.submit(2))
    assert outcomes == [0, 0]  # alone, each gets the one result it is owed


@pytest.mark.parametrize("bound", [1, 3])
async def test_batches_never_exceed_their_bound(bound: int) -> None:
    sizes: list[int] = []

    async def handle(messages: Sequence[int]) -> list[int]:
        sizes.append(len(messages))
        await asyncio.sleep(0.001)
        return list(messages)

    batcher: Batcher[int, int] = Batcher(handle, max_batch=bound)
    await asyncio.gather(*(batcher.submit(m) for m in range(10)))
    assert max(sizes) <= bound
