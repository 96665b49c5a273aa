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
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar

import httpx

from pulse_contracts.values import Platform

from .comments import COMMENT_ENDPOINTS, ProviderComment, parse_comments_page
from .normalizer import OUT_OF_CREDITS, NormalizedPost, ProviderBodyError, normalize

__all__ = [
    "ENDPOINTS",
    "CommentsResult",
    "CreditBalanceError",
    "ProviderConfig",
    "PullResult",
    "PullRun",
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

# error codes of failed/skipped runs (besides the normalizer's provider_error,
# out_of_credits, unrecognised_body and malformed_body)
BAD_REQUEST: Final = "bad_request"
UNAUTHORIZED: Final = "unauthorized"
NOT_FOUND: Final = "not_found"
RATE_LIMITED: Final = "rate_limited"
SERVER_ERROR: Final = "server_error"
HTTP_ERROR: Final = "http_error"
TIMEOUT: Final = "timeout"
CONNECTION_ERROR: Final = "connection_error"
CIRCUIT_OPEN: Final = "circuit_open"
UNSUPPORTED_PLATFORM: Final = "unsupported_platform"

# Failures that say nothing about whether the platform's scraper works.
_NEUTRAL_FAILURES: Final = frozenset({OUT_OF_CREDITS, BAD_REQUEST, NOT_FOUND})
# Loose on purpose, like the normalizer: the exact wording is only known from 3rd-party logs.
_CREDITS_RE: Final = re.compile(r"out of credits|purchase more credits", re.IGNORECASE)
# A 3rd-party probe saw a missing key answered with 500 "apiKey is required"; not transient.
_API_KEY_RE: Final = re.compile(r"api ?key", re.IGNORECASE)
_MAX_ERROR: Final = 300

RunStatus = Literal["ok", "failed", "skipped"]
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


@dataclass(frozen=True)
class PullRun:
    """One logical provider call (all its attempts), as stored in the pull-run log."""

    platform: Platform
    url: str
    status: RunStatus
    http_status: int | None  # of the last answer received; None when none arrived
    latency_ms: int
    credits: int
    attempts: int  # HTTP requests sent; 0 for skipped runs
    error_code: str | None
    error: str | None
    started_at: datetime


@dataclass(frozen=True)
class PullResult:
    run: PullRun
    post: NormalizedPost | None
    raw: dict[str, Any] | None  # last JSON object received, also on failure (for diagnosis)


class CreditBalanceError(Exception):
    """`credit_balance` could not read the balance; `code` uses the run error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class _Exchange:
    """What the attempt loop ended with."""

    attempts: int = 0
    credits: int = 0
    http_status: int | None = None
    response: httpx.Response | None = None
    error_code: str | None = None
    error: str | None = None

    def absorb(self, other: _Exchange) -> None:
        """Add one more exchange of the same logical call (a further page)."""
        self.attempts += other.attempts
        self.credits += other.credits
        if other.http_status is not None:
            self.http_status = other.http_status
        self.response = other.response
        self.error_code, self.error = other.error_code, other.error


@dataclass(frozen=True)
class CommentsResult:
    run: PullRun
    comments: list[ProviderComment]
    pages: int  # pages read successfully


class _Breaker:
    """Consecutive-failure circuit breaker for one platform (single event loop, no locks)."""

    def __init__(self, failures: int, reset_s: float) -> None:
        self.threshold = max(1, failures)
        self.reset_s = reset_s
        self.state: Literal["closed", "open", "half_open"] = "closed"
        self.failures = 0
        self.opened_at = 0.0
        self.trial_in_flight = False

    def admit(self, now: float) -> Literal["pass", "trial"] | None:
        """None: skip; "trial": the single half-open probe; "pass": normal call."""
        if self.state == "closed":
            return "pass"
        if self.state == "open":
            if now - self.opened_at < self.reset_s:
                return None
            self.state = "half_open"
        if self.trial_in_flight:
            return None
        self.trial_in_flight = True
        return "trial"

    def is_open(self) -> bool:
        return self.state != "closed"

    def retry_in(self, now: float) -> float:
        return max(0.0, self.reset_s - (now - self.opened_at))

    def record(
        self, admitted: Literal["pass", "trial"], error_code: str | None, now: float
    ) -> None:
        if admitted == "trial":
            self.trial_in_flight = False
        if error_code is None:
            self.state, self.failures = "closed", 0
            return
        if error_code in _NEUTRAL_FAILURES:
            # Neither health nor sickness: keep the count; a neutral trial frees the slot so
            # the next call becomes the trial.
            return
        if admitted == "trial":
            self._open(now)
            return
        self.failures += 1
        if self.state == "closed" and self.failures >= self.threshold:
            self._open(now)

    def _open(self, now: float) -> None:
        self.state = "open"
        self.opened_at = now


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
        self._breakers: dict[str, _Breaker] = {}  # by platform, and platform:comments

    # --- public --------------------------------------------------------------------------

    def open_circuits(self) -> list[str]:
        """Platforms (and `platform:comments`) whose breaker is open now: calls are skipped."""
        return sorted(name for name, breaker in self._breakers.items() if breaker.is_open())

    async def fetch_post(self, platform: Platform, url: str) -> PullResult:
        """Fetch and normalize one post; provider/network failures come back as a failed run."""
        if platform not in ENDPOINTS:
            return self._result(
                platform,
                url,
                "failed",
                _Exchange(),
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
            run = self._result(
                platform,
                url,
                "failed",
                _Exchange(),
                self._now(),
                time.perf_counter(),
                error_code=UNSUPPORTED_PLATFORM,
                error=f"no comments endpoint for {platform!r}",
            ).run
            return CommentsResult(run=run, comments=[], pages=0)

        async def call(started_at: datetime, t0: float) -> CommentsResult:
            total = _Exchange()
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
                raw = _json_object(ex.response)
                if raw is None:
                    total.error_code = "malformed_body"
                    total.error = f"200 answer is not a JSON object: {_snippet(ex.response)}"
                    break
                try:
                    page = parse_comments_page(raw, platform)
                except ProviderBodyError as exc:
                    total.error_code, total.error = exc.code, _clip(exc.message)
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
                total.error = _clip(f"after {pages} page(s): {total.error}")
            run = self._result(platform, url, status, total, started_at, t0).run
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
        body = _json_object(exchange.response)
        value = body.get("creditCount") if body is not None else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CreditBalanceError(
                "malformed_body",
                f"credit balance body has no numeric creditCount: {_snippet(exchange.response)}",
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
            raw = _json_object(ex.response) if ex.response is not None else None
            if ex.error_code is None and raw is None:
                return self._result(
                    platform,
                    label,
                    "failed",
                    ex,
                    started_at,
                    t0,
                    error_code="malformed_body",
                    error=f"200 answer is not a JSON object: {_snippet(ex.response)}",
                )
            status: RunStatus = "ok" if ex.error_code is None else "failed"
            return self._result(platform, label, status, ex, started_at, t0, raw=raw)

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
        skipped: Callable[[_Breaker], _R],
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

    def _breaker(self, key: str) -> _Breaker:
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = _Breaker(self.config.breaker_failures, self.config.breaker_reset_s)
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

    async def _exchange(self, path: str, params: Mapping[str, str]) -> _Exchange:
        """Send with retries; ends on the first final answer or when attempts run out."""
        ex = _Exchange()
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
                ex.error = _clip(f"{type(exc).__name__}: {exc}")
                retryable = True
            except httpx.RequestError as exc:
                # Decoding errors, redirect loops: the provider answered, just not usably.
                ex.error_code = HTTP_ERROR
                ex.error = _clip(f"{type(exc).__name__}: {exc}")
                retryable = False
            else:
                ex.response = response
                ex.http_status = response.status_code
                if not (response.status_code in (401, 402) or response.status_code >= 500):
                    ex.credits += 1
                ex.error_code, ex.error, retryable = _classify(response)
                retry_after = _retry_after(response)
            if ex.error_code is None or not retryable or ex.attempts >= max_attempts:
                if ex.error_code is not None and retryable and ex.attempts > 1:
                    ex.error = _clip(f"{ex.error} (after {ex.attempts} attempts)")
                return ex
            await self._sleep(self._backoff(ex.attempts, retry_after))

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        cap = self.config.backoff_max_s
        if retry_after is not None:
            return min(max(0.0, retry_after), cap)
        return self._rng.uniform(0, min(cap, self.config.backoff_base_s * 2 ** (attempt - 1)))

    def _interpret(
        self, platform: Platform, url: str, ex: _Exchange, started_at: datetime, t0: float
    ) -> PullResult:
        raw = _json_object(ex.response) if ex.response is not None else None
        if ex.error_code is not None:
            return self._result(platform, url, "failed", ex, started_at, t0, raw=raw)
        if raw is None:
            return self._result(
                platform,
                url,
                "failed",
                ex,
                started_at,
                t0,
                error_code="malformed_body",
                error=f"200 answer is not a JSON object: {_snippet(ex.response)}",
            )
        try:
            post = normalize(raw, platform)
        except ProviderBodyError as exc:
            return self._result(
                platform,
                url,
                "failed",
                ex,
                started_at,
                t0,
                raw=raw,
                error_code=exc.code,
                error=_clip(exc.message),
            )
        return self._result(platform, url, "ok", ex, started_at, t0, raw=raw, post=post)

    def _result(
        self,
        platform: Platform,
        url: str,
        status: RunStatus,
        ex: _Exchange,
        started_at: datetime,
        t0: float,
        *,
        raw: dict[str, Any] | None = None,
        post: NormalizedPost | None = None,
        error_code: str | None = None,
        error: str | None = None,
    ) -> PullResult:
        run = PullRun(
            platform=platform,
            url=url,
            status=status,
            http_status=ex.http_status,
            latency_ms=round((time.perf_counter() - t0) * 1000),
            credits=ex.credits,
            attempts=ex.attempts,
            error_code=error_code or ex.error_code,
            error=error or ex.error,
            started_at=started_at,
        )
        return PullResult(run=run, post=post, raw=raw)

    def _skipped(
        self, platform: Platform, url: str, breaker: _Breaker, *, what: str = ""
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


# --- response classification -------------------------------------------------------------


def _classify(response: httpx.Response) -> tuple[str | None, str | None, bool]:
    """(error_code, message, retryable) for one HTTP answer; (None, None, False) = usable 200."""
    status = response.status_code
    text = _snippet(response)
    # On a 200 only the normalizer may judge the body: a caption can say "out of credits" too.
    if status == 402 or (status != 200 and _CREDITS_RE.search(text)):
        return OUT_OF_CREDITS, f"provider account is out of credits (HTTP {status}): {text}", False
    if status in (401, 403):
        return UNAUTHORIZED, f"API key missing or rejected (HTTP {status}): {text}", False
    if status == 429:
        return RATE_LIMITED, f"rate limited (HTTP 429): {text}", True
    if status >= 500:
        if _API_KEY_RE.search(text):
            return UNAUTHORIZED, f"API key missing or rejected (HTTP {status}): {text}", False
        return SERVER_ERROR, f"provider error (HTTP {status}): {text}", True
    if status == 400:
        return BAD_REQUEST, f"provider rejected the request (HTTP 400): {text}", False
    if status == 404:
        return NOT_FOUND, f"post not found, maybe deleted (HTTP 404): {text}", False
    if status != 200:
        # Other 2xx/3xx/4xx: unknown territory; retrying an unexplained answer rarely helps.
        return HTTP_ERROR, f"unexpected HTTP {status}: {text}", False
    # 200: the body decides (success:false, malformed...), in _interpret via the normalizer.
    return None, None, False


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _json_object(response: httpx.Response | None) -> dict[str, Any] | None:
    if response is None:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _snippet(response: httpx.Response | None) -> str:
    if response is None:
        return ""
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        return "<undecodable body>"
    return _clip(" ".join(text.split()))


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_ERROR else text[: _MAX_ERROR - 3] + "..."
