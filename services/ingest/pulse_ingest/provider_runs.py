"""What one provider call leaves behind: its pull run, its result and the run error codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from pulse_contracts.values import Platform

from .comments import ProviderComment
from .normalizer import NormalizedPost

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

RunStatus = Literal["ok", "failed", "skipped"]


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


@dataclass(frozen=True)
class CommentsResult:
    run: PullRun
    comments: list[ProviderComment]
    pages: int  # pages read successfully
