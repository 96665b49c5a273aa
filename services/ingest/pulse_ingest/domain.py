"""Ingest rules: what a valid item is, how it names its post, and what becomes a sample."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pulse_contracts.post_urls import PostUrlError, parse_post_url
from pulse_contracts.posts import MAX_SAMPLES_PER_MESSAGE, Counters
from pulse_contracts.values import Platform

from .normalizer import ProviderBodyError, looks_like_provider_body, normalize

MAX_ITEMS = MAX_SAMPLES_PER_MESSAGE
MAX_BODY_BYTES = 5 * 1024 * 1024
FUTURE_TOLERANCE = timedelta(minutes=5)
INT4_MAX = 2_147_483_647
# Stored as integer to keep samples small; no public post comes near 2^31 of these.
INT4_COUNTERS = ("comments", "shares", "saves")
SOURCE_CODES: dict[str, int] = {"http": 1, "amqp": 2, "provider": 3, "import": 4}
SOURCE_NAMES: dict[int, str] = {code: name for name, code in SOURCE_CODES.items()}


class BodyError(ValueError):
    """The request body as a whole is unusable (not JSON, too many items, too large)."""

    def __init__(self, status: Literal[400, 413], message: str) -> None:
        super().__init__(message)
        self.status = status


# An item's metrics are exactly the contract's counters (unknown keys refused).
Metrics = Counters


class IngestItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: Platform | None = None
    post_id: UUID | None = None
    platform_post_id: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=2048)
    observed_at: datetime | None = None
    metrics: Metrics | None = None
    raw: dict[str, Any] | None = None
    estimated: bool = False


@dataclass(frozen=True)
class Rejection:
    index: int | None
    code: str
    message: str
    raw: Any


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class TrackedPost:
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


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    post: TrackedPost


def parse_body(body: bytes) -> list[Any]:
    """One item, a JSON array of items, or {"items": [...]}."""
    if len(body) > MAX_BODY_BYTES:
        raise BodyError(413, f"body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyError(400, f"body is not valid JSON: {exc}") from exc
    if isinstance(parsed, dict) and set(parsed) == {"items"}:
        parsed = parsed["items"]
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items:
        raise BodyError(400, 'no items: send one item, an array of items, or {"items": [...]}')
    if len(items) > MAX_ITEMS:
        raise BodyError(413, f"{len(items)} items; the limit is {MAX_ITEMS} per request")
    return items


def prepare(index: int, raw_item: Any, now: datetime) -> Candidate | Rejection:
    """Validate one item and normalize a raw provider body; never raises for bad input."""
    sent = raw_item  # rejections keep the item exactly as it was sent
    if not isinstance(raw_item, dict):
        return Rejection(index, "invalid_item", "an item must be a JSON object", sent)
    # A raw ScrapeCreators body on its own is a valid item. An ingest item always carries
    # `metrics` or `raw`; provider bodies may share other keys with it (YouTube's `url`,
    # Facebook's `post_id`), so those two decide.
    if not ({"metrics", "raw"} & raw_item.keys()) and looks_like_provider_body(raw_item):
        raw_item = {"raw": raw_item}
    try:
        item = IngestItem.model_validate(raw_item)
    except ValidationError as exc:
        return Rejection(index, "invalid_item", _describe(exc), sent)
    metrics, platform, ppid = item.metrics, item.platform, item.platform_post_id
    posted_at = caption = thumb_url = None
    url = item.url
    if item.raw is not None:
        try:
            post = normalize(item.raw, item.platform)
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
    if metrics is None:
        return Rejection(index, "no_metrics", "item has neither `metrics` nor a `raw` body", sent)
    if item.post_id is None and not ppid and not url:
        return Rejection(
            index,
            "no_post_reference",
            "item names no post: give post_id, platform_post_id, url or a raw provider body",
            sent,
        )
    for name in INT4_COUNTERS:
        value = getattr(metrics, name)
        if value is not None and value > INT4_MAX:
            return Rejection(
                index, "counter_out_of_range", f"metrics.{name} = {value} is too large", sent
            )
    observed_at = _utc(item.observed_at) if item.observed_at else now
    if observed_at > now + FUTURE_TOLERANCE:
        return Rejection(
            index,
            "observed_at_in_future",
            f"observed_at {observed_at.isoformat()} is more than 5 minutes in the future",
            sent,
        )
    return Candidate(
        index=index,
        post_id=item.post_id,
        platform=platform,
        platform_post_id=ppid,
        url=url,
        observed_at=observed_at,
        metrics=metrics,
        estimated=item.estimated,
        posted_at=posted_at,
        caption=caption,
        thumb_url=thumb_url,
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
            parsed = _parse_url(c.url)
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
    candidates: Sequence[Candidate], posts: Sequence[TrackedPost], raw_items: Mapping[int, Any]
) -> tuple[list[Match], list[Rejection]]:
    index = PostIndex(posts)
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


def _parse_url(url: str) -> tuple[Platform, str | None] | None:
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
