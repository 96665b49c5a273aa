"""Comments of a tracked post as ScrapeCreators returns them, read into one shape (pure).

Endpoints and shapes (shared/fixtures/scrapecreators/README.md, "Comments endpoints", from
the vendor's docs repository; YouTube's sample response is in the vendor docs, the others
are confirmed by third-party clients):

| platform  | path                          | next page                                  |
|-----------|-------------------------------|--------------------------------------------|
| tiktok    | /v1/tiktok/video/comments     | `cursor` (int) while `has_more` is truthy  |
| instagram | /v2/instagram/post/comments   | `cursor` (string; absent or null at end)   |
| youtube   | /v1/youtube/video/comments    | `continuationToken`; `order=newest` asked  |
| facebook  | /v1/facebook/post/comments    | `cursor` while `has_next_page` is true     |

Items: TikTok `cid, text, create_time (unix s), digg_count, user{unique_id}`; Instagram `id,
text, created_at, comment_like_count, user{username}`; YouTube `id, content, publishedTime
(ISO), replyLevel, author{name "@handle"}, engagement{likes}`; Facebook `id, text, created_at
(ISO), reaction_count, author{name}`. Not confirmed by any source: Instagram's `created_at`
type (read as unix seconds or ISO) and whether TikTok sends `comments: null` for none (read as
no comments). Parsing is tolerant on purpose: every field is looked up under the other
platforms' names too, and an item without an id or text is skipped rather than failing the
page, because one odd comment must not cost the other forty-nine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from pulse_contracts.values import Platform

from .provider_bodies import (
    MALFORMED_BODY,
    OUT_OF_CREDITS,
    PROVIDER_ERROR,
    UNRECOGNISED_BODY,
    ProviderBodyError,
)
from .sentiment import Sentiment, score

__all__ = [
    "COMMENT_ENDPOINTS",
    "MAX_TEXT",
    "CommentsPage",
    "ProviderComment",
    "ScoredComment",
    "parse_comments_page",
    "scored",
]


@dataclass(frozen=True)
class CommentEndpoint:
    path: str
    cursor_param: str
    extra: Mapping[str, str]


COMMENT_ENDPOINTS: Final[Mapping[Platform, CommentEndpoint]] = MappingProxyType(
    {
        "tiktok": CommentEndpoint("/v1/tiktok/video/comments", "cursor", {}),
        "instagram": CommentEndpoint("/v2/instagram/post/comments", "cursor", {}),
        # The only endpoint with an order: ask for the newest, the others give their default.
        "youtube": CommentEndpoint(
            "/v1/youtube/video/comments", "continuationToken", {"order": "newest"}
        ),
        "facebook": CommentEndpoint("/v1/facebook/post/comments", "cursor", {}),
    }
)

# YouTube allows 10,000 characters; a comment is kept for reading and scoring, not archived.
MAX_TEXT: Final = 5000
_MAX_ID: Final = 200
_MAX_HANDLE: Final = 200
_MAX_LIKES: Final = 10**15
_CREDITS_RE: Final = re.compile(r"out of credits|purchase more credits", re.IGNORECASE)
_MAX_ECHO: Final = 300


@dataclass(frozen=True)
class ProviderComment:
    comment_id: str  # the platform's id, unique within the post
    text: str
    author_handle: str | None
    commented_at: datetime | None
    like_count: int | None


@dataclass(frozen=True)
class CommentsPage:
    comments: list[ProviderComment]
    next_cursor: str | None  # None: no further page


@dataclass(frozen=True)
class ScoredComment:
    comment_id: str
    text: str
    author_handle: str | None
    commented_at: datetime | None
    like_count: int | None
    sentiment: Sentiment


def scored(comments: Sequence[ProviderComment]) -> list[ScoredComment]:
    return [
        ScoredComment(
            comment_id=c.comment_id,
            text=c.text,
            author_handle=c.author_handle,
            commented_at=c.commented_at,
            like_count=c.like_count,
            sentiment=score(c.text),
        )
        for c in comments
    ]


def parse_comments_page(raw: Mapping[str, Any], platform: Platform) -> CommentsPage:
    """One page of a comments endpoint; ProviderBodyError when the body is a failure."""
    failure = _failure(raw)
    if failure is not None:
        raise failure
    if "comments" not in raw:
        raise ProviderBodyError(UNRECOGNISED_BODY, f"{platform} comments body has no 'comments'")
    items = raw["comments"] if raw["comments"] is not None else []
    if not isinstance(items, list):
        raise ProviderBodyError(
            MALFORMED_BODY, f"{platform} comments body: 'comments' is {type(items).__name__}"
        )
    comments: list[ProviderComment] = []
    seen: set[str] = set()
    for item in items:
        comment = _comment(item) if isinstance(item, Mapping) else None
        if comment is not None and comment.comment_id not in seen:
            seen.add(comment.comment_id)
            comments.append(comment)
    return CommentsPage(comments, _next_cursor(raw))


# --- fields --------------------------------------------------------------------------------


def _comment(item: Mapping[str, Any]) -> ProviderComment | None:
    if _number(item.get("replyLevel")) not in (None, 0):
        return None  # a reply (YouTube): only top-level comments are analysed
    comment_id = _text(item, "cid", "id", "comment_id")
    text = _first(item, "text", "content", "comment")
    if comment_id is None or not isinstance(text, str):
        return None
    user = _mapping(item.get("user"))
    author = _mapping(item.get("author")) or _mapping(item.get("owner"))
    handle = (
        _text(user, "unique_id", "username", "nickname")
        or _text(author, "name", "username", "handle")
        or _text(item, "username", "author_name")
    )
    engagement = _mapping(item.get("engagement"))
    likes = _number(
        _first(item, "digg_count", "comment_like_count", "like_count", "reaction_count")
    )
    if likes is None:
        likes = _number(engagement.get("likes"))
    return ProviderComment(
        comment_id=comment_id[:_MAX_ID],
        text=text[:MAX_TEXT],
        author_handle=handle.lstrip("@")[:_MAX_HANDLE] if handle else None,
        commented_at=_when(_first(item, "create_time", "created_at", "publishedTime", "timestamp")),
        like_count=likes if likes is not None and 0 <= likes <= _MAX_LIKES else None,
    )


def _next_cursor(raw: Mapping[str, Any]) -> str | None:
    more = _first(raw, "has_more", "has_next_page", "hasMore")
    if more is not None and not more:
        return None  # an explicit "no more" wins over a cursor still present (TikTok)
    cursor = _first(raw, "continuationToken", "cursor", "next_cursor", "end_cursor")
    if cursor is None or isinstance(cursor, bool) or cursor == "":
        return None
    return str(cursor) if isinstance(cursor, str | int) else None


def _failure(raw: Mapping[str, Any]) -> ProviderBodyError | None:
    reasons: list[str] = []
    if raw.get("success") is False:
        reasons.append("success is false")
    if raw.get("error") and raw.get("success") is not True:
        reasons.append("body has an error")
    if raw.get("status_code") not in (None, 0, "0"):
        reasons.append(f"status_code is {raw.get('status_code')!r}")
    if not reasons:
        return None
    parts = [str(raw[k]).strip() for k in ("error", "message", "status_msg") if raw.get(k)]
    text = " - ".join(parts)[:_MAX_ECHO]
    if _CREDITS_RE.search(text):
        return ProviderBodyError(OUT_OF_CREDITS, f"provider account is out of credits: {text}")
    detail = f": {text}" if text else ""
    return ProviderBodyError(
        PROVIDER_ERROR, f"provider reported failure ({'; '.join(reasons)}){detail}"
    )


def _first(m: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = m.get(key)
        if value is not None:
            return value
    return None


def _text(m: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = m.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _when(value: Any) -> datetime | None:
    """Unix seconds (or milliseconds), or an ISO-8601 string; None when unreadable."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            seconds = float(text)
        else:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if seconds is None or seconds <= 0:
        return None
    if seconds > 10**11:  # milliseconds
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
