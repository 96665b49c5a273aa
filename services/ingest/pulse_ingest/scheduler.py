"""The refresh policy (design/events.md, "Refresh policy"), as pure functions of a post's pull
state and the time: which tracked posts are due, and how they are cut into fetch batches.

- A post is due when its last successful pull is at least one interval old, the interval
  chosen by the post's age (now − posted_at, or − registered_at while posted_at is unknown):
  age < 24 h → 1 h; < 7 days → 3 h; < 30 days → 12 h; older → 24 h. A post never pulled
  successfully is due at once.
- Pulling stops 7 days after the campaign's end date: the end date is a whole day, so the last
  moment pulled is `end_date + 8 days 00:00 UTC` (exclusive), i.e. through the 7th full day
  after the campaign's last day.
- A post the provider reported deleted (not_found) is re-checked once a day (its last attempt
  at least 24 h old) whatever its age; after 7 days of that the fetch marks it deleted and it
  is never pulled again (`deleted_at`).
- Never pulled: platform `other`, organizations flagged `is_test`, organizations whose pulls
  are paused (out of credits), removed posts, posts of deleted campaigns.
- A post with a fetch command pending (`queued_at`) is not enqueued again until the command is
  handled, or until `queue_timeout` passed (a command lost to the DLQ must not orphan a post).
- Added to the design, so a broken post does not burn a call every scheduler tick: after a
  failed attempt the post waits min(its interval, 15 min) before it is tried again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, Literal
from uuid import UUID

# The interval rule itself lives in pulse_contracts.refresh: the alerter judges stale data by
# it. Re-exported here (`x as x`) for the scheduler's existing readers.
from pulse_contracts.refresh import AFTER_END as AFTER_END
from pulse_contracts.refresh import DAY as DAY
from pulse_contracts.refresh import HOUR as HOUR
from pulse_contracts.refresh import INTERVALS as INTERVALS
from pulse_contracts.refresh import OLDEST_INTERVAL as OLDEST_INTERVAL
from pulse_contracts.refresh import post_age as _post_age
from pulse_contracts.refresh import pull_until as pull_until
from pulse_contracts.refresh import refresh_interval as refresh_interval
from pulse_contracts.values import PULLED_PLATFORMS, Platform

MIN_INTERVAL: Final = HOUR
DELETED_RECHECK: Final = DAY
DELETED_GIVE_UP: Final = timedelta(days=7)
FAILURE_RETRY: Final = timedelta(minutes=15)
DEFAULT_QUEUE_TIMEOUT: Final = timedelta(minutes=30)

DEFAULT_BATCH_SIZES: Final[Mapping[Platform, int]] = {
    "tiktok": 10,
    "instagram": 5,
    "youtube": 15,
    "facebook": 5,
}
MAX_BATCH: Final = 100  # FetchPosts carries at most 100 posts

Reason = Literal[
    "due",
    "never_pulled",
    "deleted_recheck",
    "fresh",
    "failure_backoff",
    "deleted_recheck_wait",
    "queued",
    "platform_not_pulled",
    "test_org",
    "paused",
    "campaign_over",
    "campaign_deleted",
    "removed",
    "deleted",
]


@dataclass(frozen=True)
class PostSchedule:
    """What the policy needs to know about one tracked post."""

    post_id: UUID
    org_id: UUID
    platform: Platform
    url: str
    registered_at: datetime
    posted_at: datetime | None = None
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    consecutive_failures: int = 0
    deleted_seen_at: datetime | None = None
    deleted_at: datetime | None = None
    queued_at: datetime | None = None
    removed: bool = False
    campaign_end_date: date | None = None
    campaign_deleted: bool = False
    org_is_test: bool = False
    org_paused: bool = False


@dataclass(frozen=True)
class Decision:
    due: bool
    reason: Reason


@dataclass(frozen=True)
class Batch:
    org_id: UUID
    platform: Platform
    posts: tuple[PostSchedule, ...]


def post_age(post: PostSchedule, now: datetime) -> timedelta:
    return _post_age(now, posted_at=post.posted_at, registered_at=post.registered_at)


def decide(
    post: PostSchedule, now: datetime, *, queue_timeout: timedelta = DEFAULT_QUEUE_TIMEOUT
) -> Decision:
    """Whether `post` should be fetched now, and why (or why not)."""
    if post.removed:
        return Decision(False, "removed")
    if post.deleted_at is not None:
        return Decision(False, "deleted")
    if post.platform not in PULLED_PLATFORMS:
        return Decision(False, "platform_not_pulled")
    if post.org_is_test:
        return Decision(False, "test_org")
    if post.org_paused:
        return Decision(False, "paused")
    if post.campaign_deleted:
        return Decision(False, "campaign_deleted")
    if post.campaign_end_date is not None and now >= pull_until(post.campaign_end_date):
        return Decision(False, "campaign_over")
    if post.queued_at is not None and now - post.queued_at < queue_timeout:
        return Decision(False, "queued")
    if post.deleted_seen_at is not None:
        if post.last_attempt_at is None or now - post.last_attempt_at >= DELETED_RECHECK:
            return Decision(True, "deleted_recheck")
        return Decision(False, "deleted_recheck_wait")
    interval = refresh_interval(post_age(post, now))
    if (
        post.consecutive_failures > 0
        and post.last_attempt_at is not None
        and now - post.last_attempt_at < min(interval, FAILURE_RETRY)
    ):
        return Decision(False, "failure_backoff")
    if post.last_success_at is None:
        return Decision(True, "never_pulled")
    if now - post.last_success_at >= interval:
        return Decision(True, "due")
    return Decision(False, "fresh")


def due_posts(
    posts: Iterable[PostSchedule],
    now: datetime,
    *,
    queue_timeout: timedelta = DEFAULT_QUEUE_TIMEOUT,
    limit: int | None = None,
) -> list[PostSchedule]:
    """The due posts, stalest first (never pulled before anything else)."""
    due = [p for p in posts if decide(p, now, queue_timeout=queue_timeout).due]
    due.sort(key=_staleness)
    return due[:limit] if limit is not None else due


def _staleness(post: PostSchedule) -> tuple[int, datetime, str]:
    last = post.last_success_at
    return (0 if last is None else 1, last or datetime.min.replace(tzinfo=UTC), str(post.post_id))


def batch_sizes(overrides: Mapping[str, int] | None = None) -> dict[Platform, int]:
    sizes = dict(DEFAULT_BATCH_SIZES)
    for platform, size in (overrides or {}).items():
        if platform in sizes:
            sizes[platform] = size
    return {p: max(1, min(MAX_BATCH, s)) for p, s in sizes.items()}


def plan_batches(
    due: Sequence[PostSchedule], sizes: Mapping[Platform, int] = DEFAULT_BATCH_SIZES
) -> list[Batch]:
    """One organization and one platform per batch, each at most that platform's size; the
    order of `due` is kept within a group (so the stalest posts go first)."""
    groups: dict[tuple[UUID, Platform], list[PostSchedule]] = {}
    for post in due:
        groups.setdefault((post.org_id, post.platform), []).append(post)
    batches: list[Batch] = []
    for (org_id, platform), posts in groups.items():
        size = max(1, min(MAX_BATCH, sizes.get(platform, DEFAULT_BATCH_SIZES.get(platform, 5))))
        for start in range(0, len(posts), size):
            batches.append(Batch(org_id, platform, tuple(posts[start : start + size])))
    return batches


class Clock:
    """The service's notion of now: wall time plus an offset tests may move (never in
    production: the settings refuse an offset or the test routes there)."""

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset = timedelta(seconds=offset_s)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set_offset(self, seconds: float) -> None:
        self.offset = timedelta(seconds=seconds)
