"""Benchmark accounts (docs/insights.md): reading the provider's profile and posts bodies, and
each account's rollup — pure, no I/O.

Field mapping (ScrapeCreators, shapes from the vendor's docs samples; fixtures beside the fake
server's templates):
- TikTok `GET /v1/tiktok/profile?handle=`: `user.uniqueId`, `user.privateAccount` (or
  `user.secret`), `stats.followerCount`. No `user` object: the handle is unknown.
- TikTok `GET /v3/tiktok/profile/videos?handle=&sort_by=latest`: `aweme_list[]` with `aweme_id`,
  `desc`, `create_time` (unix s), `statistics.play_count / digg_count / comment_count /
  share_count / collect_count`; the next page with `max_cursor` while `has_more`.
- Instagram `GET /v1/instagram/profile?handle=`: `data.user.username`, `data.user.is_private`,
  `data.user.edge_followed_by.count`. `data.user` null: unknown.
- Instagram `GET /v2/instagram/user/posts?handle=`: `items[]` with `code`, `caption.text`,
  `taken_at` (unix s), `play_count` (falls back to `ig_play_count`; null for photos),
  `like_count`, `comment_count`; shares and saves are not exposed (null); the next page with
  `next_max_id` while `more_available`.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any, Literal

from pulse_contracts.numbers import round_half_up
from pulse_contracts.tags import TagKind, caption_tags

from .provider_bodies import ProviderBodyError

BenchmarkPlatform = Literal["tiktok", "instagram"]
WINDOW = timedelta(days=30)
# (profile path, posts path, extra posts params) per platform.
ENDPOINTS: Mapping[str, tuple[str, str, Mapping[str, str]]] = {
    "tiktok": ("/v1/tiktok/profile", "/v3/tiktok/profile/videos", {"sort_by": "latest"}),
    "instagram": ("/v1/instagram/profile", "/v2/instagram/user/posts", {}),
}
# Pages of posts read per pull at most: enough for 30 days of a daily poster, bounded credits.
MAX_PAGES = 4
UNKNOWN_HANDLE = "unknown_handle"
PRIVATE = "private"


@dataclass(frozen=True, slots=True)
class Profile:
    handle: str
    followers: int | None
    private: bool


@dataclass(frozen=True, slots=True)
class BenchmarkPost:
    platform_post_id: str
    posted_at: datetime
    caption: str | None
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None


@dataclass(frozen=True, slots=True)
class DayRecord:
    day: date
    followers: int | None
    median_views: float | None


@dataclass(frozen=True, slots=True)
class Rollup:
    as_of: datetime
    posts_30d: int
    posts_per_week: float
    median_views: float | None
    median_engagement_rate: float | None
    follower_growth_pct: float | None
    view_growth_pct: float | None
    growth_days: int | None


def _get(raw: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(raw, Mapping):
            return None
        raw = raw.get(key)
    return raw


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


def _failed(raw: Mapping[str, Any]) -> bool:
    return raw.get("success") is False


def parse_profile(platform: str, raw: Mapping[str, Any]) -> Profile:
    """The account's followers and whether it is private; ProviderBodyError(unknown_handle)
    when the provider knows no such account."""
    if platform == "tiktok":
        user, stats = _get(raw, "user"), _get(raw, "stats")
        if _failed(raw) or not isinstance(user, Mapping) or not user.get("uniqueId"):
            raise ProviderBodyError(UNKNOWN_HANDLE, "the provider knows no such TikTok account")
        private = bool(user.get("privateAccount") or user.get("secret"))
        return Profile(str(user["uniqueId"]), _count(_get(stats, "followerCount")), private)
    user = _get(raw, "data", "user")
    if _failed(raw) or not isinstance(user, Mapping) or not user.get("username"):
        raise ProviderBodyError(UNKNOWN_HANDLE, "the provider knows no such Instagram account")
    followers = _count(_get(user, "edge_followed_by", "count"))
    return Profile(str(user["username"]), followers, bool(user.get("is_private")))


def parse_posts(platform: str, raw: Mapping[str, Any]) -> list[BenchmarkPost]:
    """The recent posts in a posts body; items without an id or a time are skipped."""
    if _failed(raw):
        raise ProviderBodyError("provider_error", str(raw.get("message") or "success: false"))
    posts: list[BenchmarkPost] = []
    items = raw.get("aweme_list") if platform == "tiktok" else raw.get("items")
    if items is None:
        return posts
    if not isinstance(items, list):
        raise ProviderBodyError("malformed_body", "the posts list is not a list")
    for item in items:
        if not isinstance(item, Mapping):
            continue
        if platform == "tiktok":
            post_id, ts = item.get("aweme_id"), item.get("create_time")
            s = item.get("statistics") or {}
            counters = [_count(_get(s, k)) for k in ("play_count", "digg_count", "comment_count")]
            extra = [_count(_get(s, "share_count")), _count(_get(s, "collect_count"))]
            caption = item.get("desc")
        else:
            post_id, ts = item.get("code"), item.get("taken_at")
            views = _count(item.get("play_count"))
            if views is None:
                views = _count(item.get("ig_play_count"))
            counters = [views, _count(item.get("like_count")), _count(item.get("comment_count"))]
            extra = [None, None]
            caption = _get(item, "caption", "text")
        seconds = _count(ts)
        if not post_id or seconds is None:
            continue
        posts.append(
            BenchmarkPost(
                platform_post_id=str(post_id),
                posted_at=datetime.fromtimestamp(seconds, UTC),
                caption=caption if isinstance(caption, str) else None,
                views=counters[0],
                likes=counters[1],
                comments=counters[2],
                shares=extra[0],
                saves=extra[1],
            )
        )
    return posts


def next_page(platform: str, raw: Mapping[str, Any]) -> dict[str, str] | None:
    """The parameters of the posts page after this one (TikTok `max_cursor` when `has_more`,
    Instagram `next_max_id` when `more_available`), or None at the end."""
    if platform == "tiktok":
        cursor = raw.get("max_cursor")
        if raw.get("has_more") and isinstance(cursor, int | str) and str(cursor) not in ("", "0"):
            return {"max_cursor": str(cursor)}
        return None
    cursor = raw.get("next_max_id")
    if raw.get("more_available") and isinstance(cursor, str) and cursor:
        return {"next_max_id": cursor}
    return None


def engagement(post: BenchmarkPost) -> int:
    return sum(v or 0 for v in (post.likes, post.comments, post.shares, post.saves))


def _median(values: Sequence[Fraction]) -> float | None:
    return round_half_up(statistics.median(values)) if values else None


def _growth(now: float | int | None, then: float | int | None) -> float | None:
    if now is None or not then:
        return None
    return round_half_up(Fraction(str(now)) * 100 / Fraction(str(then)) - 100)


def rollup(
    *,
    posts: Sequence[BenchmarkPost],
    followers: int | None,
    history: Sequence[DayRecord],
    as_of: datetime,
) -> Rollup:
    """The account's figures as of its pull (docs/insights.md, exact definitions)."""
    recent = [p for p in posts if as_of - WINDOW < p.posted_at <= as_of]
    views = [Fraction(p.views) for p in recent if p.views is not None]
    rates = [Fraction(100 * engagement(p), p.views) for p in recent if p.views]
    median_views = _median(views)
    today = as_of.astimezone(UTC).date()
    window = [d for d in history if today - timedelta(days=30) <= d.day < today]
    base = min(window, key=lambda d: d.day) if window else None
    return Rollup(
        as_of=as_of,
        posts_30d=len(recent),
        posts_per_week=round_half_up(Fraction(len(recent) * 7, 30)),
        median_views=median_views,
        median_engagement_rate=_median(rates),
        follower_growth_pct=_growth(followers, base.followers) if base else None,
        view_growth_pct=_growth(median_views, base.median_views) if base else None,
        growth_days=(today - base.day).days if base else None,
    )


def window_tags(
    posts: Sequence[BenchmarkPost], as_of: datetime
) -> list[tuple[TagKind, str, int, int, int]]:
    """(kind, tag, posts, views, engagement) over the account's posts in the 30-day window:
    each post counts once per tag, views of a post that hides them as 0."""
    sums: dict[tuple[TagKind, str], list[int]] = {}
    for post in posts:
        if not as_of - WINDOW < post.posted_at <= as_of:
            continue
        found = caption_tags(post.caption)
        keyed: list[tuple[TagKind, str]] = [("hashtag", t) for t in found.hashtags]
        keyed += [("mention", m) for m in found.mentions]
        for key in keyed:
            acc = sums.setdefault(key, [0, 0, 0])
            acc[0] += 1
            acc[1] += post.views or 0
            acc[2] += engagement(post)
    return [(kind, tag, *acc) for (kind, tag), acc in sorted(sums.items())]  # type: ignore[misc]
