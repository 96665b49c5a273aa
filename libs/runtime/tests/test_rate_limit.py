"""The API rate limit's sliding window, against the real Redis (the local one or
PULSE_TEST_REDIS_URL / PULSE_REDIS_URL), each test under a key prefix of its own."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from pulse_runtime.http import Metrics
from pulse_runtime.rate_limit import Decision, RateLimiter, redis_client

pytestmark = pytest.mark.integration
REDIS_URL = (
    os.environ.get("PULSE_TEST_REDIS_URL")
    or os.environ.get("PULSE_REDIS_URL")
    or "redis://127.0.0.1:6379/0"
)
TIMEOUT_S = 3.0  # a loaded test machine's stalled loop is not an unreachable Redis


@pytest.fixture
def prefix() -> str:
    return f"pulse-test-limiter-{uuid4().hex[:10]}:"


@pytest.fixture
async def redis(prefix: str) -> AsyncIterator[Redis]:
    async with redis_client(REDIS_URL, timeout_s=TIMEOUT_S) as client:
        yield client
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)


def counted(limiter: RateLimiter, outcome: str) -> float:
    return limiter.requests.labels(outcome)._value.get()


async def test_admits_exactly_the_limit_then_refuses_with_when_to_come_back(
    redis: Redis, prefix: str
) -> None:
    limiter = RateLimiter(redis, prefix=prefix, counter=Metrics("gateway").rate_limited)
    decisions = [await limiter.hit("user:a", 100) for _ in range(101)]
    admitted = [d for d in decisions if d is not None and d.admitted]
    assert len(admitted) == 100
    assert [d.remaining for d in admitted] == list(range(99, -1, -1))
    refused = decisions[-1]
    assert refused is not None
    assert not refused.admitted
    assert refused.remaining == 0
    # The oldest request leaves the window within the minute: then a place is free again.
    assert 55 <= refused.reset_s <= 60
    assert refused.headers()["Retry-After"] == str(refused.reset_s)
    assert refused.headers()["RateLimit-Limit"] == "100"
    assert (counted(limiter, "admitted"), counted(limiter, "refused")) == (100, 1)


async def test_each_caller_has_a_window_of_its_own(redis: Redis, prefix: str) -> None:
    limiter = RateLimiter(redis, prefix=prefix)
    for _ in range(3):
        await limiter.hit("user:a", 3)
    refused = await limiter.hit("user:a", 3)
    other = await limiter.hit("user:b", 3)
    assert refused is not None
    assert not refused.admitted
    assert other is not None
    assert other.admitted
    assert other.remaining == 2


async def test_two_replicas_racing_never_admit_more_than_the_limit(
    redis: Redis, prefix: str
) -> None:
    """Two limiters on two connection pools, as two gateway replicas: 150 requests at once."""
    async with redis_client(REDIS_URL, timeout_s=TIMEOUT_S) as second:
        replicas = [RateLimiter(redis, prefix=prefix), RateLimiter(second, prefix=prefix)]
        found = await asyncio.gather(*(replicas[i % 2].hit("user:a", 100) for i in range(150)))
    assert sum(1 for d in found if d is not None and d.admitted) == 100
    assert sum(1 for d in found if d is not None and not d.admitted) == 50


async def test_the_window_slides_and_refusals_are_not_counted(redis: Redis, prefix: str) -> None:
    """With a 1 s window: full, refused (a refusal takes no place), and free again once the
    window has moved past the admitted requests."""
    limiter = RateLimiter(redis, prefix=prefix, window_s=1)
    first = await limiter.hit("user:a", 2)
    await asyncio.sleep(0.5)
    second = await limiter.hit("user:a", 2)
    refused = [await limiter.hit("user:a", 2) for _ in range(5)]
    assert first is not None
    assert second is not None
    assert first.admitted
    assert second.admitted
    assert all(d is not None and not d.admitted for d in refused)
    await asyncio.sleep(0.6)  # the first request has left the window, the second has not
    again = await limiter.hit("user:a", 2)
    assert again is not None
    assert again.admitted
    assert again.remaining == 0
    await asyncio.sleep(1.1)
    fresh = await limiter.hit("user:a", 2)
    assert fresh is not None
    assert fresh.admitted
    assert fresh.remaining == 1


async def test_a_lowered_limit_refuses_until_enough_requests_have_left(
    redis: Redis, prefix: str
) -> None:
    limiter = RateLimiter(redis, prefix=prefix)
    for _ in range(10):
        await limiter.hit("user:a", 10)
    lowered = await limiter.hit("user:a", 5)
    assert lowered is not None
    assert not lowered.admitted
    assert lowered.remaining == 0
    assert lowered.limit == 5
    assert 55 <= lowered.reset_s <= 60


async def test_an_unreachable_redis_lets_requests_pass_unchecked_and_says_so() -> None:
    """Fail open, counted on /metrics; Redis is left alone for `retry_s` after a failure."""
    now = [1000.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    async with redis_client("redis://127.0.0.1:1/0") as nobody:
        limiter = RateLimiter(nobody, prefix="x:", retry_s=5, clock=clock)
        started = time.perf_counter()
        assert await limiter.hit("user:a", 1) is None
        assert await limiter.hit("user:a", 1) is None  # within retry_s: Redis not even asked
        assert time.perf_counter() - started < 1.0
        assert limiter._down_until == 1005.0
        now[0] += 6
        assert await limiter.hit("user:a", 1) is None  # asked again, still down
    assert counted(limiter, "unchecked") == 3
    assert counted(limiter, "admitted") == 0


async def test_a_redis_that_lost_its_scripts_still_counts_each_request_once(
    redis: Redis, prefix: str
) -> None:
    """After a Redis restart the script cache is empty: the counts are sent again, once."""
    limiter = RateLimiter(redis, prefix=prefix)
    await limiter.hit("user:a", 10)
    await redis.script_flush()
    found = await asyncio.gather(*(limiter.hit("user:a", 10) for _ in range(4)))
    assert [d.remaining for d in found if d is not None] == [8, 7, 6, 5]
    assert await redis.zcard(prefix + "user:a") == 5


def test_the_headers_a_caller_reads() -> None:
    admitted = Decision(admitted=True, limit=100, remaining=42, reset_s=17)
    assert admitted.headers() == {
        "RateLimit-Limit": "100",
        "RateLimit-Remaining": "42",
        "RateLimit-Reset": "17",
        "RateLimit-Policy": "100;w=60",
    }
    refused = Decision(admitted=False, limit=100, remaining=0, reset_s=9)
    assert refused.headers()["Retry-After"] == "9"
    assert "try again in 9 s" in refused.refusal()
