"""Hashtags and mentions of captions, and their rollup per campaign (docs/insights.md) — pure.

A caption is read once, when it arrives (`caption_tags`); each recompute of a campaign then
rolls the stored tags up with every tracked post's latest figures (`tag_rollup`), so the
route that lists them sums a few rows and never reads a caption or a sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from pulse_contracts.tags import CaptionTags, TagKind, caption_tags

from .domain import _tracked
from .inputs import BookingRef, Point, PostRef, day_of, engagement

__all__ = ["CaptionTags", "TagKind", "TagRow", "caption_tags", "tag_rollup"]


@dataclass(frozen=True, slots=True)
class TagRow:
    """One tag's posts in one campaign published on one UTC day (None: date not known yet)."""

    kind: TagKind
    tag: str
    day: date | None
    posts: int
    views: int
    engagement: int


def tag_rollup(
    *,
    campaign_id: UUID,
    bookings: Sequence[BookingRef],
    posts: Sequence[PostRef],
    latest: Mapping[UUID, Point],
    tags: Mapping[UUID, CaptionTags],
) -> list[TagRow]:
    """Per (kind, tag, publication day): the tracked posts carrying the tag, and the sums of
    their latest views and engagement. Tracked exactly as in the campaign's numbers (a removed
    post or a deleted booking's posts do not count); a post without a sample adds 0."""
    _, tracked = _tracked(campaign_id, bookings, posts)
    rows: dict[tuple[TagKind, str, date | None], list[int]] = {}
    for post_id, post in tracked.items():
        found = tags.get(post_id)
        if found is None:
            continue
        point = latest.get(post_id)
        views = (point.views or 0) if point else 0
        eng = engagement(point) if point else 0
        day = day_of(post.posted_at) if post.posted_at else None
        keyed: list[tuple[TagKind, str]] = [("hashtag", t) for t in found.hashtags]
        keyed += [("mention", m) for m in found.mentions]
        for kind, tag in keyed:
            acc = rows.setdefault((kind, tag, day), [0, 0, 0])
            acc[0] += 1
            acc[1] += views
            acc[2] += eng
    return [
        TagRow(kind, tag, day, *acc)
        for (kind, tag, day), acc in sorted(rows.items(), key=lambda kv: _sort_key(kv[0]))
    ]


def _sort_key(key: tuple[TagKind, str, date | None]) -> tuple[str, str, date]:
    kind, tag, day = key
    return kind, tag, day or date.min
