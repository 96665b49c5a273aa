"""API rate limits shared by every replica: a sliding window per caller, kept in Redis.

Why a sliding-window log: seed 001 asks for "100 requests per minute", and a log of the
requests of the last 60 s admits exactly that: never a 101st in any 60 s, however the requests
are spread over replicas. (A token bucket refills while a burst is being served, so its 101st
request in a minute passes; a fixed window admits 200 around a minute's edge.) The price is one
sorted-set entry per admitted request for a minute, a few kB per busy caller.

Why one Lua script: the count, the decision and the record of the request are one atomic step
in Redis, one round trip, so two replicas answering the same caller at the same instant can
never both take the last place. The clock is Redis's own (TIME), so replicas whose clocks
disagree still share one window.

When Redis cannot be reached, requests pass unchecked (fail open), are counted as `unchecked`
on /metrics and logged once per outage: the limit guards capacity against a runaway script, it
is not what keeps data safe (authentication and tenancy are), so an outage of the limiter's
store must not become an outage of the whole API. After a failure Redis is left alone for
`retry_s`, so an outage costs requests nothing but a clock read.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import NoScriptError, RedisError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logging import get_logger

log = get_logger(__name__)

WINDOW_S = 60
STATE_KEY = "rate_limit"  # where a route leaves its Decision in the request's scope state

# KEYS[1] the caller's window; ARGV: limit, window (ms), a random suffix making the entry unique.
# Returns {admitted (1/0), remaining, microseconds until remaining next rises}.
SLIDING_WINDOW = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2]) * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local admitted = 0
if count < limit then
    redis.call('ZADD', KEYS[1], now, now_parts[1] .. '.' .. now_parts[2] .. '-' .. ARGV[3])
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    count = count + 1
    admitted = 1
end
-- Remaining rises when the entry that keeps the count at the limit leaves the window: the
-- oldest one while under the limit; after a lowered limit, the (count - limit)th oldest.
local reset = window
local index = math.max(0, count - limit)
local entry = redis.call('ZRANGE', KEYS[1], index, index, 'WITHSCORES')
if entry[2] then
    reset = tonumber(entry[2]) + window - now
end
return {admitted, math.max(0, limit - count), reset}
"""


@dataclass(frozen=True)
class Decision:
    """One request's place in its caller's window, as the RateLimit-* headers tell it."""

    admitted: bool
    limit: int
    remaining: int
    reset_s: int  # whole seconds until `remaining` rises again (Retry-After when refused)
    window_s: int = WINDOW_S

    def headers(self) -> dict[str, str]:
        found = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
            "RateLimit-Policy": f"{self.limit};w={self.window_s}",
        }
        if not self.admitted:
            found["Retry-After"] = str(self.reset_s)
        return found

    def refusal(self) -> str:
        return (
            f"too many requests: {self.limit} per {self.window_s} s are allowed; "
            f"try again in {self.reset_s} s"
        )


Pending = tuple[str, int, "asyncio.Future[Decision | None]"]


class RateLimiter:
    """Counts requests per key (`user:<id>`, `token:<id>`, …) under one prefix in Redis.

    The counts of requests that arrive together go to Redis in one pipeline: redis-py spends
    about 100 µs of CPU on each command it sends alone (packing, the pool, the reply), and a
    busy gateway has many requests in flight at once, so a batch of them costs the process a
    fraction of that each. A request never waits for more than the batch in flight plus its
    own; alone, it is sent at once. Each count is still its own atomic script."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        counter: Counter | None = None,
        window_s: int = WINDOW_S,
        retry_s: float = 1.0,
        max_batch: int = 128,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.window_s = window_s
        self.retry_s = retry_s
        self.max_batch = max_batch
        self._clock = clock
        self._sha = hashlib.sha1(SLIDING_WINDOW.encode(), usedforsecurity=False).hexdigest()
        self._pending: list[Pending] = []
        self._sender: asyncio.Task[None] | None = None
        self._down_until: float | None = None  # set while Redis is being left alone
        # Metrics.rate_limited on /metrics; a counter of its own when none is given (tests).
        self.requests = counter or Counter(
            "pulse_rate_limit_requests",
            "Requests seen by the API rate limit, by outcome",
            ["outcome"],
            registry=CollectorRegistry(),
        )

    async def hit(self, key: str, limit: int) -> Decision | None:
        """Count one request of `key` against `limit` per window; None when Redis cannot be
        asked (the request passes unchecked)."""
        if limit < 1:
            raise ValueError("a rate limit must admit at least one request")
        if self._down_until is not None and self._clock() < self._down_until:
            self.requests.labels("unchecked").inc()
            return None
        answer: asyncio.Future[Decision | None] = asyncio.get_running_loop().create_future()
        self._pending.append((key, limit, answer))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_pending(), name="rate-limit-counts")
        decision = await answer
        if decision is None:
            self.requests.labels("unchecked").inc()
        else:
            self.requests.labels("admitted" if decision.admitted else "refused").inc()
        return decision

    async def _send_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            try:
                replies = await self._counted(batch)
            except (RedisError, OSError) as exc:
                self._went_down(exc)
                batch, self._pending = batch + self._pending, []
                replies = [None] * len(batch)
            except Exception:
                # Not an outage (a reply this code does not understand): logged with its trace,
                # and the batch passes unchecked rather than leaving its requests waiting.
                log.exception("rate limit counts failed: this batch passes unchecked")
                replies = [None] * len(batch)
            else:
                if self._down_until is not None:
                    log.info("rate limit store reachable again: API requests are counted")
                    self._down_until = None
            for (_, limit, answer), reply in zip(batch, replies, strict=True):
                if not answer.done():  # its request may have gone (client disconnected)
                    answer.set_result(None if reply is None else self._decision(limit, reply))

    async def _counted(self, batch: list[Pending]) -> list[Any]:
        """One pipeline of the batch's scripts; a Redis that lost its script cache (restarted)
        gets it again, and the counts it refused are sent once more (a refused EVALSHA counted
        nothing)."""
        replies: list[Any] = await self._pipeline(batch)
        missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if missing:
            await self.redis.script_load(SLIDING_WINDOW)
            again = await self._pipeline([batch[i] for i in missing])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    async def _pipeline(self, batch: list[Pending]) -> list[Any]:
        pipe = self.redis.pipeline(transaction=False)
        window_ms = self.window_s * 1000
        for key, limit, _ in batch:
            # Script arguments travel as strings (Redis converts them back in the script).
            pipe.evalsha(
                self._sha, 1, self.prefix + key, str(limit), str(window_ms), secrets.token_hex(4)
            )
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies

    def _went_down(self, exc: BaseException) -> None:
        if self._down_until is None:
            log.warning(
                "rate limit store unreachable: API requests pass unchecked",
                error=repr(exc),
                retry_in_s=self.retry_s,
            )
        self._down_until = self._clock() + self.retry_s

    def _decision(self, limit: int, reply: list[int]) -> Decision:
        admitted, remaining, reset_us = reply
        return Decision(
            admitted=bool(admitted),
            limit=limit,
            remaining=int(remaining),
            reset_s=max(1, math.ceil(int(reset_us) / 1_000_000)),
            window_s=self.window_s,
        )


@asynccontextmanager
async def redis_client(
    url: str, *, timeout_s: float = 0.25, max_connections: int = 8
) -> AsyncIterator[Redis]:
    """A connection pool for the lifetime of an app. The short timeouts bound what a slow or
    unreachable Redis adds to a request before it passes unchecked. A limiter sends one batch
    at a time, so it holds one connection; a plain pool (no waiting room, cheaper than a
    blocking one per command) is enough."""
    pool = ConnectionPool.from_url(
        url,
        max_connections=max_connections,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=30,
    )
    client: Redis = Redis.from_pool(pool)
    try:
        yield client
    finally:
        await client.aclose()


class RateLimitHeaders:
    """Puts the RateLimit-* headers (and Retry-After on a refusal) on every answer whose route
    counted the request, whatever the route returned: a route may answer with its own Response
    (ETags, files), which FastAPI's injected response headers would not reach."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                state: dict[str, Any] = scope.get("state") or {}
                decision = state.get(STATE_KEY)
                if isinstance(decision, Decision):
                    headers = MutableHeaders(scope=message)
                    for name, value in decision.headers().items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
