"""Ingest's internal routes for operators (the gateway's /runs, /rejected-items and /red-flags
screens and their /api): runs with each post's outcome, the red flags ingest can see, the items
it refused and their replay, a post's provider calls and comments, and the test-only routes.

Moments are `IsoDatetime`: these routes served plain dicts before, and still serve the same
text. A comment fetch's `started_at` stays a string: PostgreSQL writes it (row_to_json).
"""

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from .base import Answer, IsoDatetime, Request

__all__ = [
    "ClockOffset",
    "ClockSet",
    "CommentFetch",
    "PostComment",
    "PostComments",
    "ProviderFlags",
    "PullRun",
    "PullRunPage",
    "RedFlagRun",
    "RedFlags",
    "RejectedItem",
    "RejectedPage",
    "Replay",
    "Replayed",
    "Run",
    "RunDetail",
    "RunItem",
    "RunPage",
    "RunSource",
    "RunStatus",
    "StalePost",
    "StillRejected",
    "TickBatch",
    "Ticked",
]

RunStatus = Literal["pending", "running", "success", "failed", "partial"]
RunSource = Literal["n8n", "scheduler"]


# --- runs -------------------------------------------------------------------------------------


class Run(Answer):
    """An n8n run or a batch of Pulse's own pulls, with what it delivered."""

    source: RunSource
    status: RunStatus
    reason: str | None  # why it failed without outcomes saying so: timed_out, no_posts
    name: str | None  # the n8n workflow's name; for scheduler runs why it pulled
    execution_id: str | None
    started_at: IsoDatetime
    ended_at: IsoDatetime | None
    posts_ok: int
    posts_failed: int
    accepted: int
    duplicates: int
    rejected: int
    provider_errors: int
    run_id: UUID


class RunPage(Answer):
    """Newest first; `next_cursor` (a full page's) asks for the next one."""

    items: list[Run]
    next_cursor: str | None


class RunItem(Answer):
    """A post's outcome as the workflow reported it, or an item ingest refused."""

    kind: Literal["outcome", "item"]
    status: Literal["ok", "failed", "rejected"]
    post_id: UUID | None
    platform: str | None
    url: str | None
    item_index: int | None  # an item's index in its request or message
    code: str | None
    message: str | None
    http_status: int | None
    tries: int | None
    at: IsoDatetime


class RunDetail(Run):
    items: list[RunItem]


# --- red flags --------------------------------------------------------------------------------


class StalePost(Answer):
    """A tracked post without a fresh sample for 24 h, or failing 3 pulls in a row."""

    id: UUID
    campaign_id: UUID
    platform: str
    url: str
    last_success_at: IsoDatetime | None
    consecutive_failures: int
    last_error_code: str | None


class RedFlagRun(Answer):
    """A run failed or partial in the last 24 h (`id` and `run_id` are the same)."""

    id: UUID
    source: RunSource
    status: RunStatus
    reason: str | None
    name: str | None
    started_at: IsoDatetime
    posts_failed: int
    provider_errors: int
    run_id: UUID


class ProviderFlags(Answer):
    paused: bool
    paused_reason: str | None
    paused_at: IsoDatetime | None
    open_circuits: list[str]  # platforms whose provider calls are paused after failures


class RedFlags(Answer):
    """What ingest sees that needs an operator; the gateway adds the queues."""

    stale_posts: list[StalePost]
    runs: list[RedFlagRun]
    provider: ProviderFlags
    outbox_lag_s: float


# --- rejected items and their replay ----------------------------------------------------------


class RejectedItem(Answer):
    """An item still refused, kept as it arrived; `held` while it waits for its post."""

    id: int
    received_at: IsoDatetime
    channel: str
    item_index: int | None
    code: str
    message: str
    raw: Any  # the item as received (any JSON)
    held: bool
    held_until: IsoDatetime | None


class RejectedPage(Answer):
    """Newest first; `next_cursor` is a full page's last id."""

    items: list[RejectedItem]
    next_cursor: str | None


class Replay(Request):
    ids: list[int] = Field(min_length=1, max_length=1000)


class StillRejected(Answer):
    id: int
    code: str
    message: str


class Replayed(Answer):
    """Ids stored now (or found already stored), and those still refused with the new reason."""

    applied: list[int]
    still_rejected: list[StillRejected]


# --- a post's provider calls and comments -----------------------------------------------------


class PullRun(Answer):
    """One provider call for the post."""

    id: int
    command_id: UUID
    priority: Literal["high", "low"]
    reason: str
    platform: str
    status: Literal["ok", "failed", "skipped"]
    http_status: int | None
    latency_ms: int
    credits: int
    attempts: int
    error_code: str | None
    error: str | None
    started_at: IsoDatetime


class PullRunPage(Answer):
    """Newest first; `next_cursor` is a full page's last id."""

    items: list[PullRun]
    next_cursor: str | None


class CommentFetch(Answer):
    """The post's last comments fetch."""

    status: Literal["ok", "failed", "skipped"]
    error_code: str | None
    error: str | None
    received: int
    new_comments: int
    started_at: str  # as PostgreSQL wrote it


class PostComment(Answer):
    platform_comment_id: str
    text: str
    author_handle: str | None
    commented_at: IsoDatetime | None
    like_count: int | None
    sentiment: float  # VADER compound score, -1 .. 1
    label: Literal["positive", "neutral", "negative"]
    fetched_at: IsoDatetime


class PostComments(Answer):
    """Sentiment counts over every analysed comment, and the latest comments (staff only)."""

    post_id: UUID
    platform: str
    analysed: int
    positive: int
    neutral: int
    negative: int
    checked_at: IsoDatetime | None
    last_pull: CommentFetch | None
    items: list[PostComment]


# --- test routes (PULSE_INGEST_TEST_ROUTES, refused in production) ---------------------------


class ClockOffset(Request):
    offset_s: float = Field(ge=-10 * 365 * 86400, le=10 * 365 * 86400)


class ClockSet(Answer):
    offset_s: float
    now: IsoDatetime


class TickBatch(Answer):
    org_id: UUID
    platform: str
    post_ids: list[UUID]


class Ticked(Answer):
    """What one scheduler tick did: nothing (`acted` false: another replica holds the lock)."""

    acted: bool
    batches: list[TickBatch]
    resumed: list[UUID]
    credits: int | None
