"""Hashtags and @mentions of a caption, by the rules of docs/insights.md: one home for the rule
that the aggregator (booked posts) and ingest (benchmark posts) both apply — pure."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

TagKind = Literal["hashtag", "mention"]
# Longer runs are not tags people type (a pasted hash, a run-on line): ignored, not cut.
MAX_TAG_LENGTH = 100


@dataclass(frozen=True, slots=True)
class CaptionTags:
    hashtags: tuple[str, ...]  # each once, in order of first appearance, case-folded
    mentions: tuple[str, ...]


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
