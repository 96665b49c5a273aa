"""Ingest's internal routes that other services read: a post's samples, samples handed over
(the gateway's CSV imports), each tracked post's pulls, the refused AMQP messages, and the
benchmark accounts' status, rollup and top tags. The operators' routes (runs, red flags,
rejected items, pull runs, comments) are in ingest_operations.py."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from pulse_contracts.posts import Counters

from .aggregator import TagCount, TopTags
from .base import Answer, Request

__all__ = [
    "BenchmarkAccount",
    "BenchmarkAccounts",
    "CreatedSecret",
    "ItemRejection",
    "ItemsAnswer",
    "PostPull",
    "PostSample",
    "ProviderState",
    "PullQueued",
    "PullStatus",
    "RefusedMessage",
    "RefusedMessages",
    "Resumed",
    "RetiredSecret",
    "SamplePage",
    "SigningRequired",
    "SigningSecret",
    "SigningSecrets",
    "SigningState",
    "TagCount",
    "TopTags",
]

PullState = Literal["ok", "failing", "deleted", "paused", "not_pulled"]


class PostSample(Counters):
    """One stored sample in a post's history: the counters as at `observed_at`."""

    model_config = Answer.model_config
    observed_at: datetime
    source: str  # http | amqp | provider | import (unknown for a code no longer named)
    estimated: bool


class SamplePage(Answer):
    """Oldest first; `next_cursor` is the last observed_at of a full page."""

    items: list[PostSample]
    next_cursor: str | None


class ItemRejection(Answer):
    index: int
    code: str
    message: str
    # Present (true) only for an item kept until its post is registered (ingest's held.py).
    held: bool = Field(default=False, exclude_if=lambda held: not held)


class ItemsAnswer(Answer):
    """What became of a batch of samples: stored, already stored, or refused with the reason."""

    accepted: int
    duplicates: int
    rejected: list[ItemRejection]


class PostPull(Answer):
    post_id: UUID
    booking_id: UUID | None
    platform: str
    url: str
    status: PullState
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    consecutive_failures: int
    last_error_code: str | None
    last_error: str | None
    queued: bool
    deleted_seen_at: datetime | None
    deleted_at: datetime | None


class PullStatus(Answer):
    campaign_id: UUID
    pulling_enabled: bool
    paused: bool
    paused_at: datetime | None
    items: list[PostPull]


class RefusedMessage(Answer):
    id: int
    received_at: datetime
    channel: str
    code: str
    message: str
    raw: str | None  # cut to the length asked for


class RefusedMessages(Answer):
    """AMQP messages refused for a missing or unknown x-pulse-key (no organization's)."""

    total: int
    recent: int
    recent_hours: int
    last_at: datetime | None
    items: list[RefusedMessage]


class BenchmarkAccount(Answer):
    """A benchmark account's pull status and (once pulled) its rollup."""

    id: UUID
    platform: str
    handle: str
    status: str  # pending | ok | unknown_handle | private | failed
    status_detail: str | None
    last_pulled_at: datetime | None
    followers: int | None
    as_of: datetime | None
    posts_30d: int | None
    posts_per_week: float | None
    median_views: float | None
    median_engagement_rate: float | None
    follower_growth_pct: float | None
    view_growth_pct: float | None
    growth_days: int | None


class BenchmarkAccounts(Answer):
    items: list[BenchmarkAccount]


# --- the operator's routes (provider pause, manual pulls, webhook signing secrets) -----------


class ProviderState(Answer):
    """Whether Pulse pulls for the organization, and why not when paused (out of credits)."""

    pulling_enabled: bool
    paused: bool
    paused_at: datetime | None
    paused_reason: str | None
    resumed_at: datetime | None


class Resumed(Answer):
    resumed: bool


class PullQueued(Answer):
    command_id: UUID
    priority: Literal["high"]


class CreatedSecret(Answer):
    """A new webhook signing secret: the one answer that carries it."""

    id: UUID
    secret: str
    hint: str
    created_at: datetime
    active_secrets: int


class SigningSecret(Answer):
    id: UUID
    hint: str  # the secret's last 4 characters
    created_at: datetime
    retired_at: datetime | None
    active: bool


class SigningSecrets(Answer):
    signing_required: bool
    items: list[SigningSecret]


class RetiredSecret(Answer):
    retired: UUID
    active_secrets: int


class SigningRequired(Request):
    required: bool


class SigningState(Answer):
    signing_required: bool
