"""Ingest rules: what a valid item is, how it names its post, and what becomes a sample.

Batch-native: `prepare_all` validates a whole batch in one pydantic-core call (the per-item
path, `prepare`, only runs for a batch that has an invalid item, so rejections keep their exact
per-item reasons), and candidates, posts and matches are plain named tuples: at 20,000 samples
a second every microsecond spent per item is 2 % of a core.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, NamedTuple, Protocol
from uuid import UUID

from pydantic import ConfigDict, Field, StrictInt, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from pulse_contracts.post_urls import PostUrlError, parse_post_url
from pulse_contracts.values import Platform

from .normalizer import looks_like_provider_body, normalize
from .provider_bodies import ProviderBodyError
from .reading import Unreadable

FUTURE_TOLERANCE = timedelta(minutes=5)
INT4_MAX = 2_147_483_647
SOURCE_CODES: dict[str, int] = {"http": 1, "amqp": 2, "provider": 3, "import": 4}
SOURCE_NAMES: dict[int, str] = {code: name for name, code in SOURCE_CODES.items()}


# A counter is a JSON integer >= 0: `true`, "123" or 1.0 is a sender's mistake, never a count
# (strict: no coercion). Raw provider bodies keep their own tolerant mapping (normalizer.py).
Counter = Annotated[StrictInt, Field(ge=0, le=10**15)] | None


class _MetricsBody(TypedDict, total=False):
    """An item's metrics: exactly the contract's counters (unknown keys refused)."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    views: Counter
    likes: Counter
    comments: Counter
    shares: Counter
    saves: Counter
    reach: Counter


class _ItemBody(TypedDict, total=False):
    """One ingest item as sent (api.md). A TypedDict, not a model: validated in one pass per
    batch it costs a fraction of a model instance per item, with the same rules and errors."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    platform: Platform | None
    post_id: UUID | None
    platform_post_id: Annotated[str, Field(max_length=200)] | None
    url: Annotated[str, Field(max_length=2048)] | None
    observed_at: datetime | None
    metrics: _MetricsBody | None
    raw: dict[str, Any] | None
    estimated: bool


_ITEM: Final = TypeAdapter(_ItemBody)
_ITEMS: Final = TypeAdapter(list[_ItemBody])


class Metrics(NamedTuple):
    """A sample's cumulative counters; None where the platform does not expose one."""

    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    reach: int | None = None


# Stored as integer to keep samples small (design/performance.md P7, migration 0004): no public
# post comes near 2^31 likes, comments, shares, saves or reached accounts. Views stay bigint:
# the most-watched videos have passed 2^31 views. (Every counter after views, in order.)
INT4_COUNTERS: Final = Metrics._fields[1:]


@dataclass(frozen=True)
class Rejection:
    index: int | None
    code: str
    message: str
    raw: Any


@dataclass(slots=True)  # not frozen: that costs a microsecond per item, and nothing mutates it
class Candidate:
    """A valid item, not yet matched to a tracked post."""

    index: int
    post_id: UUID | None
    platform: Platform | None
    platform_post_id: str | None
    url: str | None
    observed_at: datetime
    metrics: Metrics
    estimated: bool
    posted_at: datetime | None
    caption: str | None
    thumb_url: str | None


class TrackedPost(NamedTuple):
    """Fields in the order load_posts.sql selects them (rows become posts positionally)."""

    key: int
    id: UUID
    booking_id: UUID
    campaign_id: UUID
    platform: Platform
    platform_post_id: str | None
    url: str
    removed: bool
    posted_at: datetime | None
    caption: str | None
    thumb_url: str | None


class Match(NamedTuple):
    candidate: Candidate
    post: TrackedPost


class RawItems(Protocol):
    """A batch's items as sent, by index (a mapping, or the batch's list behind a `get`)."""

    def get(self, index: int, /) -> Any: ...


def prepare_all(items: Sequence[Any], now: datetime) -> tuple[list[Candidate], list[Rejection]]:
    """Validate a batch and normalize its raw provider bodies; never raises for bad input.

    The whole batch is validated in one call. Only when some item is invalid does the batch go
    item by item, so that each rejection names its own item and reason (exactly `prepare`)."""
    shaped = [_shaped(item) for item in items]
    try:
        validated = _ITEMS.validate_python(shaped)
    except ValidationError:
        prepared = [prepare(index, item, now) for index, item in enumerate(items)]
        return (
            [p for p in prepared if isinstance(p, Candidate)],
            [p for p in prepared if isinstance(p, Rejection)],
        )
    candidates: list[Candidate] = []
    rejections: list[Rejection] = []
    for index, item in enumerate(validated):
        done = _finish(index, item, items[index], now)
        if isinstance(done, Candidate):
            candidates.append(done)
        else:
            rejections.append(done)
    return candidates, rejections


def prepare(index: int, raw_item: Any, now: datetime) -> Candidate | Rejection:
    """Validate one item and normalize a raw provider body; never raises for bad input."""
    sent = raw_item  # rejections keep the item exactly as it was sent
    if isinstance(raw_item, Unreadable):  # kept as its text: jsonb could not hold its value
        return Rejection(index, raw_item.code, raw_item.message, {"unparsed": raw_item.text})
    if not isinstance(raw_item, dict):
        return Rejection(index, "invalid_item", "an item must be a JSON object", sent)
    try:
        item = _ITEM.validate_python(_shaped(raw_item))
    except ValidationError as exc:
        return Rejection(index, "invalid_item", _describe(exc), sent)
    return _finish(index, item, sent, now)


def _shaped(raw_item: Any) -> Any:
    # A raw ScrapeCreators body on its own is a valid item. An ingest item always carries
    # `metrics` or `raw`; provider bodies may share other keys with it (YouTube's `url`,
    # Facebook's `post_id`), so those two decide. (A non-object fails validation as it is.)
    if (
        isinstance(raw_item, dict)
        and "metrics" not in raw_item
        and "raw" not in raw_item
        and looks_like_provider_body(raw_item)
    ):
        return {"raw": raw_item}
    return raw_item


def _finish(index: int, item: _ItemBody, sent: Any, now: datetime) -> Candidate | Rejection:
    """The rules after validation: the provider body's facts, a post reference, counter ranges,
    observed_at. `sent` is the item exactly as received, kept with any rejection."""
    counters = item.get("metrics")
    metrics = (
        Metrics(
            counters.get("views"),
            counters.get("likes"),
            counters.get("comments"),
            counters.get("shares"),
            counters.get("saves"),
            counters.get("reach"),
        )
        if counters is not None
        else None
    )
    platform = item.get("platform")
    ppid = item.get("platform_post_id")
    url = item.get("url")
    post_id = item.get("post_id")
    posted_at = caption = thumb_url = None
    raw = item.get("raw")
    if raw is not None:
        try:
            post = normalize(raw, platform)
        except ProviderBodyError as exc:
            return Rejection(index, exc.code, str(exc), sent)
        platform = platform or post.platform
        ppid = ppid or post.platform_post_id
        posted_at, caption, thumb_url = post.posted_at, post.caption, post.thumb_url
        url = url or post.permalink
        if metrics is None:
            metrics = Metrics(
                views=post.views,
                likes=post.likes,
                comments=post.comments,
                shares=post.shares,
                saves=post.saves,
                reach=post.reach,
            )
    for name, text in (("platform_post_id", ppid), ("url", url)):
        if text and "\x00" in text:  # PostgreSQL text cannot hold NUL; no post id or URL has one
            return Rejection(index, "invalid_text", f"{name} holds a NUL character (\\u0000)", sent)
    if metrics is None:
        return Rejection(index, "no_metrics", "item has neither `metrics` nor a `raw` body", sent)
    if post_id is None and not ppid and not url:
        return Rejection(
            index,
            "no_post_reference",
            "item names no post: give post_id, platform_post_id, url or a raw provider body",
            sent,
        )
    for name, value in zip(INT4_COUNTERS, metrics[1:], strict=True):
        if value is not None and value > INT4_MAX:
            return Rejection(
                index, "counter_out_of_range", f"metrics.{name} = {value} is too large", sent
            )
    observed = item.get("observed_at")
    observed_at = _utc(observed) if observed else now
    if observed_at > now + FUTURE_TOLERANCE:
        return Rejection(
            index,
            "observed_at_in_future",
            f"observed_at {observed_at.isoformat()} is more than 5 minutes in the future",
            sent,
        )
    return Candidate(
        index,
        post_id,
        platform,
        ppid,
        url,
        observed_at,
        metrics,
        item.get("estimated", False),
        posted_at,
        caption,
        thumb_url,
    )


def lookup_keys(candidates: Iterable[Candidate]) -> tuple[list[UUID], list[str], list[str]]:
    """Post ids, platform post ids and URLs to load the organization's matching posts by."""
    ids: set[UUID] = set()
    ppids: set[str] = set()
    urls: set[str] = set()
    for c in candidates:
        if c.post_id:
            ids.add(c.post_id)
        if c.platform_post_id:
            ppids.add(c.platform_post_id)
        if c.url:
            urls.add(c.url)
    for url in urls:  # each distinct URL parsed once, however many items name it
        parsed = _parse_url(url)
        if parsed and parsed[1]:
            ppids.add(parsed[1])
    return sorted(ids), sorted(ppids), sorted(urls)


class PostIndex:
    """The organization's tracked posts by id, platform post id and URL.

    One public post may be booked in several campaigns; its metrics then belong to each of
    those tracked posts, so an item naming it by platform id or URL matches all of them.
    """

    def __init__(self, posts: Sequence[TrackedPost]) -> None:
        self._by_id = {p.id: p for p in posts}
        self._by_ppid: dict[str, list[TrackedPost]] = {}
        self._by_url: dict[str, list[TrackedPost]] = {}
        for p in posts:
            if p.platform_post_id:
                self._by_ppid.setdefault(p.platform_post_id, []).append(p)
            self._by_url.setdefault(p.url, []).append(p)

    def find(self, c: Candidate) -> list[TrackedPost]:
        if c.post_id is not None:
            found = self._by_id.get(c.post_id)
            return [found] if found else []
        if c.platform_post_id and (posts := self._by_ppid_for(c.platform_post_id, c.platform)):
            return posts
        if c.url:
            if posts := self._by_url.get(c.url, []):
                return posts
            parsed = _parse_url(c.url)
            if parsed and parsed[1]:
                return self._by_ppid_for(parsed[1], parsed[0])
        return []

    def _by_ppid_for(self, ppid: str, platform: Platform | None) -> list[TrackedPost]:
        return [p for p in self._by_ppid.get(ppid, []) if platform in (None, p.platform)]


def match(
    candidates: Sequence[Candidate], posts: Sequence[TrackedPost], raw_items: RawItems
) -> tuple[list[Match], list[Rejection]]:
    return match_in(PostIndex(posts), candidates, raw_items)


def match_in(
    index: PostIndex, candidates: Sequence[Candidate], raw_items: RawItems
) -> tuple[list[Match], list[Rejection]]:
    """`match` against an index built once for several batches of one organization."""
    matches: list[Match] = []
    rejections: list[Rejection] = []
    for c in candidates:
        found = index.find(c)
        raw = raw_items.get(c.index)
        if not found:
            rejections.append(Rejection(c.index, "unknown_post", _unknown_message(c), raw))
            continue
        wrong = [p for p in found if c.platform is not None and c.platform != p.platform]
        if wrong:
            rejections.append(
                Rejection(
                    c.index,
                    "platform_mismatch",
                    f"item says {c.platform} but post {wrong[0].id} is on {wrong[0].platform}",
                    raw,
                )
            )
            continue
        tracked = [p for p in found if not p.removed]
        if not tracked:
            rejections.append(
                Rejection(c.index, "post_removed", f"post {found[0].id} is no longer tracked", raw)
            )
            continue
        matches.extend(Match(c, post) for post in tracked)
    return matches, rejections


def _unknown_message(c: Candidate) -> str:
    named = (
        f"post_id {c.post_id}"
        if c.post_id
        else f"platform_post_id {c.platform_post_id}"
        if c.platform_post_id
        else f"url {c.url}"
    )
    return f"no tracked post in this organization matches {named}"


@functools.lru_cache(maxsize=16_384)
def _parse_url(url: str) -> tuple[Platform, str | None] | None:
    # Memoized: n8n sends the same post URLs batch after batch, and parsing one costs tens of
    # microseconds (the function is pure, so a bounded cache is all it takes).
    try:
        parsed = parse_post_url(url)
    except PostUrlError:
        return None
    return parsed.platform, parsed.platform_post_id


def _utc(ts: datetime) -> datetime:
    # A timestamp without a zone is read as UTC, the only zone Pulse speaks.
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'item'}: {e['msg']}" for e in exc.errors()[:5]
    )
