"""Hashtags and mentions of captions, and their rollup per campaign (docs/insights.md) — pure.

A caption is read once, when it arrives (`caption_tags`); each recompute of a campaign then
rolls the stored tags up with every tracked post's latest figures (`tag_rollup`), so the
route that lists them sums a few rows and never reads a caption or a sample.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal
from uuid import UUID

from .domain import BookingRef, Point, PostRef, _tracked, day_of, engagement

TagKind = Literal["hashtag", "mention"]
# Longer runs are not tags people type (a pasted hash, a run-on line): ignored, not cut.
MAX_TAG_LENGTH = 100


@dataclass(frozen=True, slots=True)
class CaptionTags:
    hashtags: tuple[str, ...]  # each once, in order of first appearance, case-folded
    mentions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TagRow:
    """One tag's posts in one campaign published on one UTC day (None: date not known yet)."""

    kind: TagKind
    tag: str
    day: date | None
    posts: int
    views: int
    engagement: int


def _is_tag_char(ch: str) -> bool:
    # Letters, combining marks (Thai, Hindi, Arabic vowel signs), digits, and the underscore.
    return ch == "_" or unicodedata.category(ch)[0] in "LMN"


def _is_handle_char(ch: str) -> bool:
    return ch == "." or _is_tag_char(ch)


def caption_tags(caption: str | None) -> CaptionTags:
    """The caption's hashtags and @mentions by the rules of docs/insights.md.

    NFKC first, so a full-width ＃ or ＠ (Japanese and Chinese keyboards) is a sign like any
    other and full-width letters match their plain forms. A sign starts a tag at the start of the
    caption, after any character that could not continue its tag, or right after a tag (chained
    "#a#b"); so an e-mail address or "a#b" holds none. A tag runs while its characters may, so
    trailing punctuation ("#sale!", "@nike.") is never part of it.
    """
    if not caption:
        return CaptionTags((), ())
    text = unicodedata.normalize("NFKC", caption)
    hashtags: dict[str, None] = {}
    mentions: dict[str, None] = {}
    i, n = 0, len(text)
    after_tag = False  # the previous characters ended a tag: a sign right here chains
    while i < n:
        ch = text[i]
        allowed = _is_tag_char if ch == "#" else _is_handle_char
        starts = ch in "#@" and (i == 0 or after_tag or not allowed(text[i - 1]))
        after_tag = False
        if not starts:
            i += 1
            continue
        j = i + 1
        while j < n and allowed(text[j]):
            j += 1
        body = text[i + 1 : j]
        if ch == "@":
            body = body.rstrip(".")  # a full stop after a handle ends the sentence
            j = i + 1 + len(body)
        if _valid(body, hashtag=ch == "#"):
            (hashtags if ch == "#" else mentions).setdefault(body.casefold(), None)
            after_tag = True
        i = max(j, i + 1)
    return CaptionTags(tuple(hashtags), tuple(mentions))


def _valid(body: str, *, hashtag: bool) -> bool:
    if not body or len(body) > MAX_TAG_LENGTH:
        return False
    if hashtag:
        # "#1" and "#2024" are numbering, not tags: a hashtag needs a letter or a mark.
        return any(unicodedata.category(ch)[0] in "LM" for ch in body)
    return any(ch != "." for ch in body)


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
