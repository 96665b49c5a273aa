"""The ScrapeCreators client: one post (or one post's comments) per call, each a pull run.

Why it is shaped like this (design/events.md, "Refresh policy"; the vendor facts are in
shared/fixtures/scrapecreators/README.md):

- `fetch_post` never raises for provider or network trouble. The refresh scheduler needs a
  pull run for every call (status, latency, credits, error) and must go on with the rest of
  a batch, so every failure becomes a `failed` PullRun with a stable `error_code`.
- Retries: only what can succeed on a second try is retried — 429, 5xx, timeouts and
  connection errors — with full-jitter exponential backoff (a uniform draw in
  [0, min(max, base * 2^n)]) so many workers that failed together do not come back together.
  A `Retry-After` header wins over the draw, capped at `backoff_max_s` so a hostile value
  cannot park a worker. 400/401/402/404 are answers, not accidents: retrying them burns
  time (and for 402 the provider's patience) for the same answer.
- Out of credits is reported as `error_code == "out_of_credits"` (402, or the vendor's
  "out of credits" text on any status). There is no OutOfCredits exception: the caller sees
  the code on the run and stops the batch; an exception would break "never raises".
- A body with `success: false` is a failure whatever the HTTP status (the vendor has been
  seen to send error bodies with 200); the normalizer decides provider_error/out_of_credits,
  and its malformed_body/unrecognised_body rejections of 200 bodies also become failed runs.
- Concurrency: one semaphore per platform, held for the whole fetch including backoff
  sleeps, so a platform that is pushing back (429) is not hit harder by the posts queued
  behind it.
- Circuit breaker per platform: after `breaker_failures` consecutive failed runs the
  platform is open for `breaker_reset_s` and calls come back at once as `skipped` with
  `circuit_open` (no HTTP, no credits); then one trial call is let through (half-open). A
  success closes it, a failure opens it again. Failures that say nothing about the
  platform's health do not count: out_of_credits (account-wide), bad_request (our URL) and
  not_found (a deleted post).
- Credits: the vendor charges 1 credit per request; we count 1 for each HTTP request that
  got an answer other than 401, 402 or 5xx (those are not charged). Timeouts and connection
  errors count 0 — we cannot know, and under-counting is the safer error for a report.
- Latency is wall time from the moment the call got its concurrency slot to its end,
  including retries and backoff, i.e. how long the provider made us wait for this post.
- Comments (`fetch_comments`) go through the same attempt loop, credits and concurrency
  slots, page after page up to a bound, behind a breaker of their own (see its docstring).

The client stays one module of ~450 lines: every endpoint runs through the same breaker, slot
and attempt loop, and splitting those apart would scatter one call's path over files. What an
answer means is in provider_answers.py, the breaker in breaker.py, the runs in provider_runs.py.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final, TypeVar

import httpx

from pulse_contracts.values import Platform

from .breaker import Breaker
from .comments import COMMENT_ENDPOINTS, ProviderComment, parse_comments_page
from .normalizer import normalize
from .provider_answers import (
    Exchange,
    classify,
    clip,
    json_object,
    pull_result,
    retry_after_of,
    snippet,
)
from .provider_bodies import ProviderBodyError
from .provider_runs import (
    CIRCUIT_OPEN,
    CONNECTION_ERROR,
    HTTP_ERROR,
    TIMEOUT,
    UNSUPPORTED_PLATFORM,
    CommentsResult,
    PullResult,
    PullRun,
    RunStatus,
)

__all__ = [
    "ENDPOINTS",
    "CreditBalanceError",
    "ProviderConfig",
    "ScrapeCreatorsClient",
]

ENDPOINTS: Final[Mapping[Platform, str]] = MappingProxyType(
    {
        "tiktok": "/v2/tiktok/video",
        "instagram": "/v1/instagram/post",
        "youtube": "/v1/youtube/video",
        "facebook": "/v1/facebook/post",
    }
)
CREDIT_BALANCE_PATH: Final = "/v1/account/credit-balance"

DEFAULT_CONCURRENCY: Final[Mapping[Platform, int]] = MappingProxyType(
    {"tiktok": 4, "instagram": 2, "youtube": 4, "facebook": 2}
)

_R = TypeVar("_R")


@dataclass(frozen=True)
class ProviderConfig:
    base_url: str
    api_key: str
    timeout_s: float = 15
    max_attempts: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8
    concurrency: Mapping[Platform, int] = field(default_factory=lambda: DEFAULT_CONCURRENCY)
    breaker_failures: int = 5
    breaker_reset_s: float = 60


class CreditBalanceError(Exception):
    """`credit_balance` could not read the balance; `code` uses the run error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ScrapeCreatorsClient:
    def __init__(
        self,
        config: ProviderConfig,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`clock` (monotonic seconds) drives the breaker, `now` stamps started_at, `sleep` and
        `rng` drive backoff; all injectable so tests need not wait. `http` is owned by the
        caller (connection pool shared with the rest of the service)."""
        self.config = config
        self._http = http
        self._clock = clock
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()  # jitter, not crypto
        self._now = now
        self._base_url = config.base_url.rstrip("/")
        self._semaphores: dict[Platform, asyncio.Semaphore] = {}
        self._breakers: dict[str, Breaker] = {}  # by platform, and platform:comments

    # --- public --------------------------------------------------------------------------

    def open_circuits(self) -> list[str]:
        """Platforms (and `platform:comments`) whose breaker is open now: calls are skipped."""
        return sorted(name for name, breaker in self._breakers.items() if breaker.is_open())

    async def fetch_post(self, platform: Platform, url: str) -> PullResult:
        """Fetch and normalize one post; provider/network failures come back as a failed run."""
        if platform not in ENDPOINTS:
            return pull_result(
                platform,
                url,
                "failed",
                Exchange(),
                self._now(),
                time.perf_counter(),
                error_code=UNSUPPORTED_PLATFORM,
                error=f"no provider endpoint for {platform!r}",
            )

        async def call(started_at: datetime, t0: float) -> PullResult:
            exchange = await self._exchange(ENDPOINTS[platform], {"url": url})
            return self._interpret(platform, url, exchange, started_at, t0)

        return await self._guarded(
            platform,
            platform,
            call,
            skipped=lambda breaker: self._skipped(platform, url, breaker),
            health=lambda result: result.run.error_code,
        )

    async def fetch_comments(
        self, platform: Platform, url: str, *, limit: int, max_pages: int
    ) -> CommentsResult:
        """Up to `limit` top-level comments of one post, over at most `max_pages` pages; like
        fetch_post it never raises for provider trouble. All pages are one run (attempts and
        credits summed). A failure after the first page keeps what was read: the run is `ok`
        with the later page's error noted, since the comments in hand are still worth scoring.

        Comments have their own breaker per platform, apart from the post endpoints': a
        comments endpoint that is down (Instagram's is documented at ~90 % success) must not
        open the circuit for the metrics pulls. They share the platform's concurrency slots,
        which are about how hard we press the provider, whatever the endpoint."""
        endpoint = COMMENT_ENDPOINTS.get(platform)
        if endpoint is None:
            run = pull_result(
                platform,
                url,
                "failed",
                Exchange(),
                self._now(),
                time.perf_counter(),
                error_code=UNSUPPORTED_PLATFORM,
                error=f"no comments endpoint for {platform!r}",
            ).run
            return CommentsResult(run=run, comments=[], pages=0)

        async def call(started_at: datetime, t0: float) -> CommentsResult:
            total = Exchange()
            comments: list[ProviderComment] = []
            seen: set[str] = set()
            pages = 0
            cursor: str | None = None
            while len(comments) < limit and pages < max(1, max_pages):
                params = {"url": url, **endpoint.extra}
                if cursor is not None:
                    params[endpoint.cursor_param] = cursor
                ex = await self._exchange(endpoint.path, params)
                total.absorb(ex)
                if ex.error_code is not None:
                    break
                raw = json_object(ex.response)
                if raw is None:
                    total.error_code = "malformed_body"
                    total.error = f"200 answer is not a JSON object: {snippet(ex.response)}"
                    break
                try:
                    page = parse_comments_page(raw, platform)
                except ProviderBodyError as exc:
                    total.error_code, total.error = exc.code, clip(exc.message)
                    break
                pages += 1
                for comment in page.comments:
                    if comment.comment_id not in seen and len(comments) < limit:
                        seen.add(comment.comment_id)
                        comments.append(comment)
                # A cursor that does not move would loop until max_pages for nothing.
                if page.next_cursor is None or page.next_cursor == cursor:
                    break
                cursor = page.next_cursor
            status: RunStatus = "ok" if pages else "failed"
            if pages and total.error is not None:
                total.error = clip(f"after {pages} page(s): {total.error}")
            run = pull_result(platform, url, status, total, started_at, t0).run
            return CommentsResult(run=run, comments=comments, pages=pages)

        return await self._guarded(
            platform,
            f"{platform}:comments",
            call,
            skipped=lambda breaker: CommentsResult(
                run=self._skipped(platform, url, breaker, what="comments of ").run,
                comments=[],
                pages=0,
            ),
            health=lambda result: None if result.run.status == "ok" else result.run.error_code,
        )

    async def credit_balance(self) -> int:
        """Remaining credits (free call); raises CreditBalanceError when it cannot be read."""
        exchange = await self._exchange(CREDIT_BALANCE_PATH, {})
        if exchange.error_code is not None or exchange.response is None:
            raise CreditBalanceError(exchange.error_code or HTTP_ERROR, exchange.error or "")
        body = json_object(exchange.response)
        value = body.get("creditCount") if body is not None else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CreditBalanceError(
                "malformed_body",
                f"credit balance body has no numeric creditCount: {snippet(exchange.response)}",
            )
        return int(value)

    async def fetch_json(
        self, platform: Platform, path: str, params: Mapping[str, str], *, label: str
    ) -> PullResult:
        """One call to another of the provider's endpoints (benchmark profiles and posts): the
        body comes back as `raw` for the caller to read, failures as a failed run, like
        fetch_post. Behind its own breaker (`platform:benchmarks`), so an account endpoint
        that is down never stops booked posts' pulls, and in the platform's concurrency slots.
        `label` stands for the URL in the pull-run log."""

        async def call(started_at: datetime, t0: float) -> PullResult:
            ex = await self._exchange(path, params)
            raw = json_object(ex.response) if ex.response is not None else None
            if ex.error_code is None and raw is None:
                return pull_result(
                    platform,
                    label,
                    "failed",
                    ex,
                    started_at,
                    t0,
                    error_code="malformed_body",
                    error=f"200 answer is not a JSON object: {snippet(ex.response)}",
                )
            status: RunStatus = "ok" if ex.error_code is None else "failed"
            return pull_result(platform, label, status, ex, started_at, t0, raw=raw)

        return await self._guarded(
            platform,
            f"{platform}:benchmarks",
            call,
            skipped=lambda breaker: self._skipped(platform, label, breaker, what="benchmark "),
            health=lambda result: result.run.error_code,
        )

    def breaker_state(self, platform: Platform) -> str:
        """closed / open / half_open, for health endpoints and logs."""
        return self._breaker(platform).state

    # --- internals -----------------------------------------------------------------------

    async def _guarded(
        self,
        platform: Platform,
        breaker_key: str,
        call: Callable[[datetime, float], Awaitable[_R]],
        *,
        skipped: Callable[[Breaker], _R],
        health: Callable[[_R], str | None],
    ) -> _R:
        """Run `call` behind the breaker `breaker_key` and the platform's concurrency slot;
        `health` reads the error code the breaker should count (None: a success)."""
        breaker = self._breaker(breaker_key)
        admitted = breaker.admit(self._clock())
        if admitted is None:
            return skipped(breaker)
        try:
            async with self._semaphore(platform):
                if admitted == "pass" and breaker.is_open():
                    # The breaker opened while this call waited for a slot.
                    admitted = None
                    return skipped(breaker)
                result = await call(self._now(), time.perf_counter())
        finally:
            # Cancellation of a trial call must not leave the breaker half-open forever.
            if admitted == "trial" and breaker.trial_in_flight:
                breaker.trial_in_flight = False
        if admitted is not None:
            breaker.record(admitted, health(result), self._clock())
        return result

    def _breaker(self, key: str) -> Breaker:
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = Breaker(self.config.breaker_failures, self.config.breaker_reset_s)
            self._breakers[key] = breaker
        return breaker

    def _semaphore(self, platform: Platform) -> asyncio.Semaphore:
        # Created lazily so the client can be built outside a running loop.
        semaphore = self._semaphores.get(platform)
        if semaphore is None:
            limit = self.config.concurrency.get(platform, DEFAULT_CONCURRENCY.get(platform, 1))
            semaphore = asyncio.Semaphore(max(1, limit))
            self._semaphores[platform] = semaphore
        return semaphore

    async def _exchange(self, path: str, params: Mapping[str, str]) -> Exchange:
        """Send with retries; ends on the first final answer or when attempts run out."""
        ex = Exchange()
        max_attempts = max(1, self.config.max_attempts)
        while True:
            ex.attempts += 1
            retry_after: float | None = None
            ex.response = None
            try:
                response = await self._http.get(
                    self._base_url + path,
                    params=params,
                    headers={"x-api-key": self.config.api_key, "accept": "application/json"},
                    timeout=self.config.timeout_s,
                )
            except httpx.TimeoutException as exc:
                ex.error_code = TIMEOUT
                ex.error = f"no answer within {self.config.timeout_s:g} s ({type(exc).__name__})"
                retryable = True
            except httpx.TransportError as exc:
                ex.error_code = CONNECTION_ERROR
                ex.error = clip(f"{type(exc).__name__}: {exc}")
                retryable = True
            except httpx.RequestError as exc:
                # Decoding errors, redirect loops: the provider answered, just not usably.
                ex.error_code = HTTP_ERROR
                ex.error = clip(f"{type(exc).__name__}: {exc}")
                retryable = False
            else:
                ex.response = response
                ex.http_status = response.status_code
                if not (response.status_code in (401, 402) or response.status_code >= 500):
                    ex.credits += 1
                ex.error_code, ex.error, retryable = classify(response)
                retry_after = retry_after_of(response)
            if ex.error_code is None or not retryable or ex.attempts >= max_attempts:
                if ex.error_code is not None and retryable and ex.attempts > 1:
                    ex.error = clip(f"{ex.error} (after {ex.attempts} attempts)")
                return ex
            await self._sleep(self._backoff(ex.attempts, retry_after))

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        cap = self.config.backoff_max_s
        if retry_after is not None:
            return min(max(0.0, retry_after), cap)
        return self._rng.uniform(0, min(cap, self.config.backoff_base_s * 2 ** (attempt - 1)))

    def _interpret(
        self, platform: Platform, url: str, ex: Exchange, started_at: datetime, t0: float
    ) -> PullResult:
        raw = json_object(ex.response) if ex.response is not None else None
        if ex.error_code is not None:
            return pull_result(platform, url, "failed", ex, started_at, t0, raw=raw)
        if raw is None:
            return pull_result(
                platform,
                url,
                "failed",
                ex,
                started_at,
                t0,
                error_code="malformed_body",
                error=f"200 answer is not a JSON object: {snippet(ex.response)}",
            )
        try:
            post = normalize(raw, platform)
        except ProviderBodyError as exc:
            return pull_result(
                platform,
                url,
                "failed",
                ex,
                started_at,
                t0,
                raw=raw,
                error_code=exc.code,
                error=clip(exc.message),
            )
        return pull_result(platform, url, "ok", ex, started_at, t0, raw=raw, post=post)

    def _skipped(
        self, platform: Platform, url: str, breaker: Breaker, *, what: str = ""
    ) -> PullResult:
        retry_in = breaker.retry_in(self._clock())
        run = PullRun(
            platform=platform,
            url=url,
            status="skipped",
            http_status=None,
            latency_ms=0,
            credits=0,
            attempts=0,
            error_code=CIRCUIT_OPEN,
            error=(
                f"circuit open for {what}{platform} after {breaker.failures} consecutive failures"
                + (f"; next trial in {retry_in:.0f} s" if breaker.state == "open" else "")
            ),
            started_at=self._now(),
        )
        return PullResult(run=run, post=None, raw=None)
