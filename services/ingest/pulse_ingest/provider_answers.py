"""The provider's HTTP answers: what a call's attempts ended with, what an answer means, its run."""

from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import httpx

from pulse_contracts.values import Platform

from .normalizer import NormalizedPost
from .provider_bodies import OUT_OF_CREDITS
from .provider_runs import (
    BAD_REQUEST,
    HTTP_ERROR,
    NOT_FOUND,
    RATE_LIMITED,
    SERVER_ERROR,
    UNAUTHORIZED,
    PullResult,
    PullRun,
    RunStatus,
)

# Loose on purpose, like the normalizer: the exact wording is only known from 3rd-party logs.
_CREDITS_RE: Final = re.compile(r"out of credits|purchase more credits", re.IGNORECASE)
# A 3rd-party probe saw a missing key answered with 500 "apiKey is required"; not transient.
_API_KEY_RE: Final = re.compile(r"api ?key", re.IGNORECASE)
_MAX_ERROR: Final = 300


@dataclass
class Exchange:
    """What the attempt loop ended with."""

    attempts: int = 0
    credits: int = 0
    http_status: int | None = None
    response: httpx.Response | None = None
    error_code: str | None = None
    error: str | None = None

    def absorb(self, other: Exchange) -> None:
        """Add one more exchange of the same logical call (a further page)."""
        self.attempts += other.attempts
        self.credits += other.credits
        if other.http_status is not None:
            self.http_status = other.http_status
        self.response = other.response
        self.error_code, self.error = other.error_code, other.error


def pull_result(
    platform: Platform,
    url: str,
    status: RunStatus,
    ex: Exchange,
    started_at: datetime,
    t0: float,
    *,
    raw: dict[str, Any] | None = None,
    post: NormalizedPost | None = None,
    error_code: str | None = None,
    error: str | None = None,
) -> PullResult:
    """The pull run of one logical call from what its attempts ended with; latency runs from
    `t0` (perf_counter) to now."""
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


def classify(response: httpx.Response) -> tuple[str | None, str | None, bool]:
    """(error_code, message, retryable) for one HTTP answer; (None, None, False) = usable 200."""
    status = response.status_code
    text = snippet(response)
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
    # 200: the body decides (success:false, malformed...), in the client via the normalizer.
    return None, None, False


def retry_after_of(response: httpx.Response) -> float | None:
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


def json_object(response: httpx.Response | None) -> dict[str, Any] | None:
    if response is None:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def snippet(response: httpx.Response | None) -> str:
    if response is None:
        return ""
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        return "<undecodable body>"
    return clip(" ".join(text.split()))


def clip(text: str) -> str:
    return text if len(text) <= _MAX_ERROR else text[: _MAX_ERROR - 3] + "..."
