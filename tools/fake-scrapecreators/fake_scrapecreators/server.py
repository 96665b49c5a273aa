"""A local stand-in for api.scrapecreators.com, for tests and `make dev`.

It serves the provider's own paths with fixture-shaped bodies (templates/ are copies of the
crafted fixtures), so the real client and the real normalizer run unchanged against it.

Why the numbers look the way they do:
- Every post is identified by the id in its URL, never by the URL text, so two URL forms of one
  post (share links with tracking queries, shorts vs watch) give the same post and counters.
- Counters are a pure function of (post, elapsed time since the post's "posted" moment): a
  saturating curve views = total x (1 - e^(-hours/tau)) plus a slow log tail, with total, tau
  and the engagement ratios taken from a hash of the post. Every counter is the floor of a
  non-decreasing function of time, so no counter ever decreases while the clock moves forward.
- The posted moment is `anchor - offset(hash)` with offset between 10 minutes and 72 hours;
  `anchor` is the clock at start-up unless given, so a fresh server shows fresh, growing posts.
  Pass the same `anchor` (`--anchor`) across restarts to keep the same numbers.

Failures are injected through `/_control/*` (no API key needed there): provider outages
(429, 500, slow), out-of-credits, malformed and success:false bodies, and deleted posts.
Credits are charged like the ingest client counts them: one per post or comments call that
reached the provider and was not answered 401/402/5xx.

Latency: by default the fake answers at once (tests stay fast). `--latency-ms N` (or
`create_app(latency_ms=N)`) makes every post and comments call take N ms on average, drawn
uniformly from 0.5 N to 1.5 N, like a scraping API whose answers take a second or two; a
behaviour rule with its own `delay_ms` (or "slow") replaces that draw for the calls it covers.

Comments (the vendor's four comment endpoints, shapes in
shared/fixtures/scrapecreators/README.md and pulse_ingest/comments.py): every post has a
deterministic set of top-level comments, newest first, paged with each platform's cursor.
Comment i of a post is written `spacing` seconds after the post went live and is visible once
the clock has passed that moment, so later pulls see more comments with the same ids. By
default a post has 5..60 comments, 90 s apart, a "mixed" mood (about 55 % clearly positive,
30 % neutral, 15 % negative texts). `POST /_control/comments {url, count, mood, spacing_s}`
sets a post's set, e.g. `mood: "negative"` (about 70 % negative) to demo a sentiment alert.
Shapes the vendor does not document and this fake chose: Instagram's `created_at` is unix
seconds, TikTok pages hold 20 comments, Instagram 15, YouTube 20, Facebook 10.
Behaviour rules apply to the post endpoints unless they say `endpoint: "comments"`, and
comment calls are listed by `/_control/comment-calls`, apart from `/_control/calls`, so tests
about post pulls are not disturbed by the comment fetches that follow them.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hashlib
import json
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from .accounts import register_account_routes

__all__ = ["PLATFORMS", "Behaviour", "create_app", "main", "post_id_from_url"]

PlatformName = Literal["tiktok", "instagram", "youtube", "facebook"]
Mode = Literal["ok", "slow", "429", "500", "402", "malformed", "success_false"]
Endpoint = Literal["post", "comments"]
Mood = Literal["mixed", "positive", "negative"]

PLATFORMS: Final[tuple[PlatformName, ...]] = ("tiktok", "instagram", "youtube", "facebook")
PATHS: Final[dict[str, PlatformName]] = {
    "/v2/tiktok/video": "tiktok",
    "/v1/instagram/post": "instagram",
    "/v1/youtube/video": "youtube",
    "/v1/facebook/post": "facebook",
}
COMMENT_PATHS: Final[dict[str, PlatformName]] = {
    "/v1/tiktok/video/comments": "tiktok",
    "/v2/instagram/post/comments": "instagram",
    "/v1/youtube/video/comments": "youtube",
    "/v1/facebook/post/comments": "facebook",
}
PAGE_SIZES: Final[dict[PlatformName, int]] = {
    "tiktok": 20,
    "instagram": 15,
    "youtube": 20,
    "facebook": 10,
}
DEFAULT_COMMENT_SPACING_S: Final = 90.0
# Share of (positive, neutral) per mood; the rest is negative.
MOODS: Final[dict[Mood, tuple[float, float]]] = {
    "mixed": (0.55, 0.30),
    "positive": (0.80, 0.15),
    "negative": (0.15, 0.15),
}
# Texts whose sentiment is clear to any reader (and to VADER: the fake's tests check each).
POSITIVE_TEXTS: Final = (
    "Love this look, you are glowing! 😍",
    "This is amazing, just ordered one 🔥",
    "Best video you have made so far, great job",
    "So beautiful, thank you for sharing ❤️",
    "Obsessed with this, it looks perfect on you",
    "Wow, the quality is awesome. Happy with mine too!",
    "Great tips, super helpful 👏",
    "Yes!! Love the colours, so fun",
    "Honestly the best brand collab I have seen, well done",
    "Gorgeous! Need this in my life 💯",
    "Such a cute outfit, you nailed it",
    "I bought it after your last video and I love it",
)
NEUTRAL_TEXTS: Final = (
    "Where did you get the jacket?",
    "What size are you wearing?",
    "Is there a discount code?",
    "Which shade is this",
    "Link in bio?",
    "Does it ship to Canada",
    "Watching this at 3am",
    "First time seeing this brand",
    "Part 2?",
    "How long does the battery last?",
    "Is this available in black",
    "Tag the brand",
)
NEGATIVE_TEXTS: Final = (
    "This is a scam, do not buy it",
    "Terrible quality, mine broke after two days 😡",
    "So fake. Unfollowing",
    "Worst ad ever, this is embarrassing",
    "Hate how every video is an ad now 👎",
    "Overpriced garbage, really disappointed",
    "Awful customer service, still waiting for a refund",
    "This looks cheap and ugly",
    "Stop promoting this brand, they are horrible",
    "Sad to see you sell out like this",
    "Ugh, boring and annoying",
    "Waste of money, total rip off 🤮",
)
COMMENTER_HANDLES: Final = (
    "lena.m",
    "jayden_k",
    "sofia.styles",
    "mike_reviews",
    "ana.b",
    "tom.eats",
    "priya_daily",
    "noah.fit",
)
TEMPLATE_FILES: Final[dict[PlatformName, str]] = {
    "tiktok": "tiktok_video.json",
    "instagram": "instagram_post.json",
    "youtube": "youtube_video.json",
    "facebook": "facebook_post.json",
}
HOSTS: Final[dict[PlatformName, tuple[str, ...]]] = {
    "tiktok": ("tiktok.com",),
    "instagram": ("instagram.com",),
    "youtube": ("youtube.com", "youtu.be"),
    "facebook": ("facebook.com", "fb.watch", "fb.com"),
}
DEFAULT_CREDITS: Final = 100_000
# "slow" without an explicit delay still has to be slower than any sane client timeout in tests.
DEFAULT_SLOW_MS: Final = 2_000

# Bodies: the 402 and missing-key texts are the ones in the shared fixtures.
OUT_OF_CREDITS_BODY: Final[dict[str, Any]] = {
    "success": False,
    "message": (
        "Looks like you're out of credits :( You'll need to buy more to continue using the service."
    ),
}
MISSING_KEY_BODY: Final[dict[str, Any]] = {"success": False, "message": "apiKey is required"}
SERVER_ERROR_BODY: Final[dict[str, Any]] = {"success": False, "message": "Internal server error"}
SUCCESS_FALSE_BODY: Final[dict[str, Any]] = {
    "success": False,
    "message": "Could not fetch this post right now. Please try again.",
}
DELETED_BODY: Final[dict[str, Any]] = {
    "success": False,
    "error": "not_found",
    "message": "Post not found. It may have been deleted or made private.",
}
# The only 429 ever reported (3rd-party) was a text body, not JSON.
RATE_LIMIT_TEXT: Final = 'Exceeded daily rate limit. {"limit":"1000","remaining":"0"}'

_DIGITS: Final = re.compile(r"\d+")
_TIKTOK_ID: Final = re.compile(r"/(?:video|photo)/(\d+)")
_INSTAGRAM_CODE: Final = re.compile(r"/(?:p|reel|reels|tv)/([A-Za-z0-9_-]+)")
_YOUTUBE_PATH_ID: Final = re.compile(r"^/(?:shorts|live|embed|v)/([A-Za-z0-9_-]+)")
_YOUTUBE_ID: Final = re.compile(r"[A-Za-z0-9_-]+")
# The vendor answers in US Pacific; a fixed offset is enough for a fake (no DST games).
_YOUTUBE_TZ: Final = timezone(timedelta(hours=-8))


class Behaviour(BaseModel):
    """Body of POST /_control/behaviour."""

    platform: PlatformName | None = None
    # Which endpoints the rule applies to; post endpoints unless told otherwise.
    endpoint: Endpoint = "post"
    mode: Mode = "ok"
    times: int | None = Field(default=None, ge=1)
    delay_ms: int = Field(default=0, ge=0)
    # Extra to the brief: lets tests check that a client honours Retry-After on 429.
    retry_after_s: float | None = Field(default=None, ge=0)


class CreditsBody(BaseModel):
    credits: int = Field(ge=0)


class DeletedBody(BaseModel):
    url: str


class CurveBody(BaseModel):
    """A post's growth given by the caller (the demo seed), so refreshes continue its history:
    views = total x (1 - e^(-hours/tau)), every other counter = views x its ratio."""

    url: str
    posted_at: float  # unix seconds
    total: float = Field(ge=0)
    tau_h: float = Field(gt=0)
    ratios: dict[str, float] = Field(default_factory=dict)  # likes, comments, shares, saves


class CommentsBody(BaseModel):
    """A post's comment set: `count` comments `spacing_s` apart from the moment it went live."""

    url: str
    count: int = Field(ge=0, le=5000)
    mood: Mood = "mixed"
    spacing_s: float = Field(default=1.0, gt=0)


class AdvanceBody(BaseModel):
    seconds: float = Field(ge=0)


@dataclass
class _Rule:
    mode: Mode
    remaining: int | None
    delay_ms: int
    retry_after_s: float | None


@dataclass
class _State:
    initial_credits: int
    credits: int
    rules: dict[tuple[Endpoint, PlatformName | None], _Rule] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    comment_calls: list[dict[str, Any]] = field(default_factory=list)
    comment_sets: dict[str, CommentsBody] = field(default_factory=dict)  # by "platform:post id"
    deleted: set[tuple[PlatformName, str]] = field(default_factory=set)
    curves: dict[str, CurveBody] = field(default_factory=dict)  # by "platform:post id"
    in_flight: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLATFORMS, 0))
    max_in_flight: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLATFORMS, 0))
    offset_s: float = 0.0

    def reset(self) -> None:
        self.credits = self.initial_credits
        self.rules.clear()
        self.calls.clear()
        self.comment_calls.clear()
        self.comment_sets.clear()
        self.deleted.clear()
        self.curves.clear()
        self.offset_s = 0.0
        # Calls still sleeping in "slow" mode keep their slot until they answer.
        self.max_in_flight = dict(self.in_flight)

    def take_rule(self, platform: PlatformName | None, endpoint: Endpoint = "post") -> _Rule | None:
        """The rule for this call (platform rule before the global one), consuming one use."""
        key: tuple[Endpoint, PlatformName | None] = (
            (endpoint, platform) if (endpoint, platform) in self.rules else (endpoint, None)
        )
        rule = self.rules.get(key)
        if rule is None:
            return None
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining <= 0:
                del self.rules[key]
        return rule


class BadUrl(ValueError):
    pass


# --- ids from URLs -------------------------------------------------------------------------


def post_id_from_url(platform: PlatformName, url: str) -> str:
    """The post id the provider would report for this URL; BadUrl when it is not such a link."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError as exc:
        raise BadUrl(f"url must be a {platform} link") from exc
    if parts.scheme not in ("http", "https") or not any(
        host == d or host.endswith("." + d) for d in HOSTS[platform]
    ):
        raise BadUrl(f"url must be a {platform} link")
    query = parse_qs(parts.query)
    if platform == "tiktok":
        found = _TIKTOK_ID.search(parts.path)
        if found:
            return found.group(1)
        if host.startswith(("vm.", "vt.")):
            # Short links hide the id behind a redirect; any stable 19-digit id will do.
            return str(7_000_000_000_000_000_000 + _hash_int(url, "tiktok-short") % 10**18)
    elif platform == "instagram":
        found = _INSTAGRAM_CODE.search(parts.path)
        if found:
            return found.group(1)
    elif platform == "youtube":
        if host == "youtu.be" or host.endswith(".youtu.be"):
            candidate = parts.path.strip("/").split("/")[0]
        else:
            path_match = _YOUTUBE_PATH_ID.match(parts.path)
            candidate = path_match.group(1) if path_match else (query.get("v") or [""])[0]
        if _YOUTUBE_ID.fullmatch(candidate):
            return candidate
    else:
        for key in ("v", "story_fbid", "fbid", "video_id"):
            value = (query.get(key) or [""])[0]
            if value.isdigit():
                return value
        segments = [s for s in parts.path.split("/") if s]
        for segment in reversed(segments):
            if segment.isdigit() and len(segment) >= 5:
                return segment
        if segments:
            # pfbid… and fb.watch links carry no numeric id; derive a stable one.
            return str(10**15 + _hash_int(url, "facebook-id") % (9 * 10**15))
    raise BadUrl(f"could not find a {platform} post id in url")


# --- deterministic growth -----------------------------------------------------------------


def _hash_int(key: str, salt: str) -> int:
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


_GOLDEN_FRACTION: Final = (math.sqrt(5) - 1) / 2

# Tags a post's caption gains besides its template's, picked by the post's hash, so the demo's
# hashtag and mention tables (docs/insights.md) show campaigns that differ like real ones.
_EXTRA_HASHTAGS: Final = ("GlowUp", "skincare", "GiftIdeas", "selfcare", "WinterStyle", "ad")
_EXTRA_MENTIONS: Final = ("lumen.beauty", "northwind_studio", "maya.styles")


def _extra_tags(key: str) -> str:
    n = _hash_int(key, "caption-tags")
    picked = [_EXTRA_HASHTAGS[(n >> (3 * i)) % len(_EXTRA_HASHTAGS)] for i in range(2)]
    mention = _EXTRA_MENTIONS[(n >> 9) % len(_EXTRA_MENTIONS)]
    return " " + " ".join(f"#{tag}" for tag in dict.fromkeys(picked)) + f" @{mention}"


def _unit(key: str, salt: str) -> float:
    """A number in [0, 1) fixed by (key, salt)."""
    return _hash_int(key, salt) / 2**64


@dataclass(frozen=True)
class Counters:
    views: int
    views_alt: int  # Instagram's smaller video_view_count
    likes: int
    comments: int
    shares: int
    saves: int


def posted_at(key: str, anchor: float) -> float:
    """Unix seconds at which the post went live: 10 minutes to 72 hours before `anchor`."""
    return anchor - (600 + _unit(key, "age") * 72 * 3600)


def counters_at(key: str, hours: float) -> Counters:
    """Public counters of post `key` `hours` after it went live; non-decreasing in `hours`."""
    h = max(0.0, hours)
    total = 10 ** (3.5 + 3.0 * _unit(key, "total"))  # about 3k .. 3M views at saturation
    tau = 3.0 + 45.0 * _unit(key, "tau")  # hours to reach ~63 % of total
    # The log tail keeps old posts moving a little, so refreshes of old posts still see growth.
    views = total * (1.0 - math.exp(-h / tau)) + total * 0.02 * math.log1p(h / 24.0)

    def share(lo: float, hi: float, salt: str) -> int:
        return math.floor(views * (lo + (hi - lo) * _unit(key, salt)))

    return Counters(
        views=math.floor(views),
        views_alt=share(0.2, 0.4, "alt"),
        likes=share(0.03, 0.12, "likes"),
        comments=share(0.0008, 0.006, "comments"),
        shares=share(0.001, 0.01, "shares"),
        saves=share(0.002, 0.02, "saves"),
    )


def counters_on_curve(curve: CurveBody, hours: float) -> Counters:
    views = curve.total * (1.0 - math.exp(-max(0.0, hours) / curve.tau_h))

    def ratio(name: str) -> int:
        return math.floor(views * curve.ratios.get(name, 0.0))

    return Counters(
        views=math.floor(views),
        views_alt=math.floor(views * 0.3),
        likes=ratio("likes"),
        comments=ratio("comments"),
        shares=ratio("shares"),
        saves=ratio("saves"),
    )


# --- bodies --------------------------------------------------------------------------------


def _load_templates() -> dict[PlatformName, dict[str, Any]]:
    folder = resources.files("fake_scrapecreators") / "templates"
    loaded: dict[PlatformName, dict[str, Any]] = {}
    for platform, name in TEMPLATE_FILES.items():
        body = json.loads((folder / name).read_text(encoding="utf-8"))
        assert isinstance(body, dict)
        loaded[platform] = body
    return loaded


def _iso_z(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _render(
    template: dict[str, Any],
    platform: PlatformName,
    url: str,
    post_id: str,
    *,
    now: float,
    anchor: float,
    credits: int,
    curve: CurveBody | None = None,
) -> dict[str, Any]:
    key = f"{platform}:{post_id}"
    if curve is None:
        posted = math.floor(posted_at(key, anchor))
        c = counters_at(key, (now - posted) / 3600)
    else:
        posted = math.floor(curve.posted_at)
        c = counters_on_curve(curve, (now - curve.posted_at) / 3600)
    body = copy.deepcopy(template)
    if platform == "tiktok":
        a = body["aweme_detail"]
        handle_match = re.search(r"/@([A-Za-z0-9._]+)", url)
        handle = handle_match.group(1) if handle_match else a["author"]["unique_id"]
        a["aweme_id"] = a["statistics"]["aweme_id"] = a["status"]["aweme_id"] = post_id
        a["author"]["unique_id"] = handle
        a["create_time"] = posted
        a["create_time_utc"] = _iso_z(posted)
        a["desc"] = (a.get("desc") or "") + _extra_tags(key)
        a["url"] = f"https://www.tiktok.com/@{handle}/video/{post_id}"
        a["share_url"] = f"{a['url']}?_r=1&u_code=fake&sharer_language=en"
        a["statistics"].update(
            play_count=c.views,
            digg_count=c.likes,
            comment_count=c.comments,
            share_count=c.shares,
            collect_count=c.saves,
        )
        body["extra"]["now"] = math.floor(now * 1000)
    elif platform == "instagram":
        m = body["data"]["xdt_shortcode_media"]
        m["shortcode"] = post_id
        m["id"] = str(3_000_000_000_000_000_000 + _hash_int(key, "media-id") % 10**18)
        m["taken_at_timestamp"] = posted
        m["video_play_count"] = c.views
        m["video_view_count"] = c.views_alt
        m["edge_media_preview_like"]["count"] = c.likes
        m["edge_media_to_parent_comment"]["count"] = c.comments
        m["edge_media_preview_comment"]["count"] = c.comments
        for edge in m["edge_media_to_caption"]["edges"]:
            edge["node"]["created_at"] = str(posted)
            edge["node"]["text"] = (edge["node"].get("text") or "") + _extra_tags(key)
    elif platform == "youtube":
        is_short = "/shorts/" in url
        body["id"] = post_id
        body["type"] = "short" if is_short else "video"
        body["url"] = (
            f"https://www.youtube.com/shorts/{post_id}"
            if is_short
            else f"https://www.youtube.com/watch?v={post_id}"
        )
        body["thumbnail"] = f"https://img.youtube.com/vi/{post_id}/maxresdefault.jpg"
        body["description"] = (body.get("description") or "") + _extra_tags(key)
        published = datetime.fromtimestamp(posted, tz=_YOUTUBE_TZ)
        body["publishDate"] = published.isoformat()
        body["publishDateText"] = f"{published:%b} {published.day}, {published.year}"
        body["viewCountInt"], body["viewCountText"] = c.views, f"{c.views:,}"
        body["likeCountInt"], body["likeCountText"] = c.likes, str(c.likes)
        body["commentCountInt"], body["commentCountText"] = c.comments, f"{c.comments:,}"
        body["credits_remaining"] = credits
    else:
        body["post_id"] = post_id
        body["video"]["id"] = post_id
        body["url"] = f"https://www.facebook.com/reel/{post_id}"
        body["feedback_id"] = f"feedback:{post_id}"
        body["creation_time"] = _iso_z(posted)
        body["description"] = (body.get("description") or "") + _extra_tags(key)
        body["view_count"] = c.views
        body["like_count"] = c.likes
        body["comment_count"] = c.comments
        body["share_count"] = c.shares
        body["credits_remaining"] = credits
    return body


def _malformed(body: dict[str, Any], platform: PlatformName) -> dict[str, Any]:
    """The same body without the keys the normalizer needs for this platform."""
    if platform == "tiktok":
        body.pop("aweme_detail", None)
    elif platform == "instagram":
        body["data"] = {}
    elif platform == "youtube":
        body.pop("id", None)
    else:
        body.pop("post_id", None)
    return body


# --- comments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeComment:
    index: int  # 0 = the oldest
    comment_id: str
    text: str
    label: Literal["positive", "neutral", "negative"]
    handle: str
    at: float  # unix seconds
    likes: int


def comment_set(key: str, posted: float, chosen: CommentsBody | None) -> list[FakeComment]:
    """Every comment the post will ever have, oldest first (visibility is up to the caller)."""
    if chosen is None:
        count = 5 + math.floor(56 * _unit(key, "comment-count"))
        mood: Mood = "mixed"
        spacing = DEFAULT_COMMENT_SPACING_S
    else:
        count, mood, spacing = chosen.count, chosen.mood, chosen.spacing_s
    positive, neutral = MOODS[mood]
    platform = key.split(":", 1)[0]
    comments = []
    # A golden-ratio sequence rather than an independent draw per comment: any run of
    # consecutive comments (a page, a bounded pull) then holds the mood's shares to within a
    # comment or two, so "negative" reliably reads as negative at every size a test or demo uses.
    phase = _unit(key, "mood")
    for i in range(count):
        ckey = f"{key}:{i}"
        u = (phase + i * _GOLDEN_FRACTION) % 1.0
        label: Literal["positive", "neutral", "negative"]
        if u < positive:
            label, pool = "positive", POSITIVE_TEXTS
        elif u < positive + neutral:
            label, pool = "neutral", NEUTRAL_TEXTS
        else:
            label, pool = "negative", NEGATIVE_TEXTS
        comments.append(
            FakeComment(
                index=i,
                comment_id=_comment_id(platform, ckey),
                text=pool[_hash_int(ckey, "text") % len(pool)],
                label=label,
                handle=f"{COMMENTER_HANDLES[_hash_int(ckey, 'who') % len(COMMENTER_HANDLES)]}{i}",
                at=posted + (i + 1) * spacing,
                likes=_hash_int(ckey, "likes") % 500,
            )
        )
    return comments


def _comment_id(platform: str, ckey: str) -> str:
    h = _hash_int(ckey, "comment-id")
    if platform == "tiktok":
        return str(7_400_000_000_000_000_000 + h % 10**17)
    if platform == "instagram":
        return str(17_900_000_000_000_000 + h % 10**15)
    if platform == "youtube":
        return f"Ugw{h:016x}AaABAg"
    return f"Y29tbWVudDo{h:016x}"


def _comments_page(
    platform: PlatformName, post_id: str, visible: list[FakeComment], offset: int, credits: int
) -> dict[str, Any]:
    """One page of the newest-first list, shaped like the platform's comments endpoint."""
    newest_first = sorted(visible, key=lambda c: c.index, reverse=True)
    size = PAGE_SIZES[platform]
    page = newest_first[offset : offset + size]
    end = offset + len(page)
    more = end < len(newest_first)
    if platform == "tiktok":
        return {
            "status_code": 0,
            "comments": [
                {
                    "cid": c.comment_id,
                    "aweme_id": post_id,
                    "text": c.text,
                    "create_time": math.floor(c.at),
                    "digg_count": c.likes,
                    "reply_comment_total": 0,
                    "user": {
                        "uid": str(_hash_int(c.handle, "uid") % 10**18),
                        "unique_id": c.handle,
                        "nickname": c.handle.title(),
                    },
                }
                for c in page
            ],
            "cursor": end,
            "has_more": 1 if more else 0,
            "total": len(newest_first),
        }
    cursor = f"c{end}" if more else None
    if platform == "instagram":
        return {
            "success": True,
            "credits_remaining": credits,
            "comments": [
                {
                    "id": c.comment_id,
                    "text": c.text,
                    "created_at": math.floor(c.at),
                    "comment_like_count": c.likes,
                    "user": {
                        "id": str(_hash_int(c.handle, "uid") % 10**11),
                        "username": c.handle,
                        "is_verified": False,
                    },
                }
                for c in page
            ],
            "cursor": cursor,
        }
    if platform == "youtube":
        return {
            "success": True,
            "comments": [
                {
                    "id": c.comment_id,
                    "content": c.text,
                    "publishedTimeText": "1 hour ago",
                    "publishedTime": _iso_z(c.at),
                    "replyLevel": 0,
                    "author": {
                        "name": f"@{c.handle}",
                        "channelId": f"UC{_hash_int(c.handle, 'channel'):022x}"[:24],
                        "isVerified": False,
                        "isCreator": False,
                        "channelUrl": f"https://youtube.com/@{c.handle}",
                    },
                    "engagement": {"likes": c.likes, "replies": 0},
                }
                for c in page
            ],
            "continuationToken": cursor,
        }
    return {
        "success": True,
        "credits_remaining": credits,
        "comments": [
            {
                "id": c.comment_id,
                "text": c.text,
                "created_at": _iso_z(c.at),
                "reply_count": 0,
                "reaction_count": c.likes,
                "author": {
                    "id": str(_hash_int(c.handle, "uid") % 10**15),
                    "name": c.handle.replace(".", " ").replace("_", " ").title(),
                },
                "feedback_id": f"feedback:{post_id}:{c.index}",
            }
            for c in page
        ],
        "cursor": cursor,
        "has_next_page": more,
    }


def _cursor_offset(value: str | None) -> int | None:
    """The offset a cursor stands for; None when it is not one of ours."""
    if value is None or value == "":
        return 0
    digits = value[1:] if value.startswith("c") else value
    return int(digits) if digits.isdigit() else None


# --- app -----------------------------------------------------------------------------------


def create_app(
    clock: Callable[[], float] = time.time,
    *,
    credits: int = DEFAULT_CREDITS,
    anchor: float | None = None,
    latency_ms: float = 0.0,
    rng: random.Random | None = None,
) -> FastAPI:
    """The fake provider; `clock` (unix seconds) drives post ages and call timestamps, and
    `latency_ms` is the mean time a post or comments call takes (see the module doc)."""
    app = FastAPI(title="fake-scrapecreators", docs_url=None, redoc_url=None)
    draw = rng if rng is not None else random.Random()  # jitter, not crypto
    state = _State(initial_credits=credits, credits=credits)
    templates = _load_templates()
    start_anchor = clock() if anchor is None else anchor

    def now() -> float:
        return clock() + state.offset_s

    def log(path: str, url: str | None, api_key: str | None, status: int) -> None:
        state.calls.append(
            {"path": path, "url": url, "api_key": api_key, "at": now(), "status": status}
        )

    async def post_call(
        request: Request, platform: PlatformName, endpoint: Endpoint = "post"
    ) -> Response:
        path = request.url.path
        url = request.query_params.get("url")
        api_key = request.headers.get("x-api-key") or None
        state.in_flight[platform] += 1
        state.max_in_flight[platform] = max(
            state.max_in_flight[platform], state.in_flight[platform]
        )
        try:
            response, charged = await answer(platform, url, api_key, endpoint, request)
        finally:
            state.in_flight[platform] -= 1
        if charged:
            state.credits = max(0, state.credits - 1)
        if endpoint == "comments":
            state.comment_calls.append(
                {
                    "path": path,
                    "url": url,
                    "api_key": api_key,
                    "at": now(),
                    "status": response.status_code,
                    "params": dict(request.query_params),
                }
            )
        else:
            log(path, url, api_key, response.status_code)
        return response

    async def answer(
        platform: PlatformName,
        url: str | None,
        api_key: str | None,
        endpoint: Endpoint,
        request: Request,
    ) -> tuple[Response, bool]:
        """The response and whether the call costs a credit."""
        if api_key is None:
            return JSONResponse(MISSING_KEY_BODY, status_code=401), False
        rule = state.take_rule(platform, endpoint)
        mode: Mode = rule.mode if rule else "ok"
        delay_ms = latency_ms * draw.uniform(0.5, 1.5) if latency_ms > 0 else 0.0
        if rule is not None:
            delay_ms = rule.delay_ms or (DEFAULT_SLOW_MS if mode == "slow" else delay_ms)
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        if mode == "429":
            headers = {}
            if rule is not None and rule.retry_after_s is not None:
                headers["Retry-After"] = f"{rule.retry_after_s:g}"
            return PlainTextResponse(RATE_LIMIT_TEXT, status_code=429, headers=headers), True
        if mode == "500":
            return JSONResponse(SERVER_ERROR_BODY, status_code=500), False
        if mode == "402" or state.credits <= 0:
            return JSONResponse(OUT_OF_CREDITS_BODY, status_code=402), False
        if mode == "success_false":
            return JSONResponse(SUCCESS_FALSE_BODY), True
        if not url:
            body = {"success": False, "error": "bad_request", "message": "url is required"}
            return JSONResponse(body, status_code=400), True
        try:
            post_id = post_id_from_url(platform, url)
        except BadUrl as exc:
            body = {"success": False, "error": "bad_request", "message": str(exc)}
            return JSONResponse(body, status_code=400), True
        if (platform, post_id) in state.deleted:
            return JSONResponse(DELETED_BODY, status_code=404), True
        if endpoint == "comments":
            return comments_answer(platform, post_id, request, mode)
        body = _render(
            templates[platform],
            platform,
            url,
            post_id,
            now=now(),
            anchor=start_anchor,
            credits=state.credits - 1,
            curve=state.curves.get(f"{platform}:{post_id}"),
        )
        if mode == "malformed":
            body = _malformed(body, platform)
        return JSONResponse(body), True

    def comments_answer(
        platform: PlatformName, post_id: str, request: Request, mode: Mode
    ) -> tuple[Response, bool]:
        key = f"{platform}:{post_id}"
        curve = state.curves.get(key)
        posted = curve.posted_at if curve is not None else posted_at(key, start_anchor)
        moment = now()
        visible = [
            c for c in comment_set(key, posted, state.comment_sets.get(key)) if c.at <= moment
        ]
        cursor_param = "continuationToken" if platform == "youtube" else "cursor"
        offset = _cursor_offset(request.query_params.get(cursor_param))
        if offset is None:
            body = {"success": False, "error": "bad_request", "message": "invalid cursor"}
            return JSONResponse(body, status_code=400), True
        page = _comments_page(platform, post_id, visible, offset, state.credits - 1)
        if mode == "malformed":
            page.pop("comments", None)
        return JSONResponse(page), True

    def route(platform: PlatformName, endpoint: Endpoint) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            return await post_call(request, platform, endpoint)

        handler.__name__ = f"{platform}_{endpoint}"
        return handler

    for path, platform in PATHS.items():
        app.add_api_route(path, route(platform, "post"), methods=["GET"])
    for path, platform in COMMENT_PATHS.items():
        app.add_api_route(path, route(platform, "comments"), methods=["GET"])

    @app.get("/v1/account/credit-balance")
    async def credit_balance(request: Request) -> Response:
        api_key = request.headers.get("x-api-key") or None
        if api_key is None:
            log(request.url.path, None, None, 401)
            return JSONResponse(MISSING_KEY_BODY, status_code=401)
        log(request.url.path, None, api_key, 200)
        return JSONResponse({"creditCount": state.credits})

    def charge(path: str, api_key: str | None) -> Response | None:
        """An account call (accounts.py): refused without a key or credits, else one credit."""
        if api_key is None:
            log(path, None, None, 401)
            return JSONResponse(MISSING_KEY_BODY, status_code=401)
        if state.credits <= 0:
            log(path, None, api_key, 402)
            return JSONResponse(OUT_OF_CREDITS_BODY, status_code=402)
        state.credits -= 1
        log(path, None, api_key, 200)
        return None

    register_account_routes(
        app,
        now=now,
        charge=charge,
        counters_at=counters_at,
        unit=_unit,
        extra_tags=_extra_tags,
    )

    @app.post("/_control/behaviour")
    async def set_behaviour(behaviour: Behaviour) -> dict[str, Any]:
        key = (behaviour.endpoint, behaviour.platform)
        if behaviour.mode == "ok" and behaviour.delay_ms == 0:
            state.rules.pop(key, None)
        else:
            state.rules[key] = _Rule(
                behaviour.mode, behaviour.times, behaviour.delay_ms, behaviour.retry_after_s
            )
        return {"ok": True}

    @app.post("/_control/reset")
    async def reset() -> dict[str, Any]:
        state.reset()
        return {"ok": True}

    @app.get("/_control/calls")
    async def calls() -> list[dict[str, Any]]:
        return state.calls

    @app.get("/_control/comment-calls")
    async def comment_calls() -> list[dict[str, Any]]:
        return state.comment_calls

    @app.post("/_control/comments")
    async def set_comments(body: CommentsBody) -> Response:
        for platform in PLATFORMS:
            try:
                key = f"{platform}:{post_id_from_url(platform, body.url)}"
            except BadUrl:
                continue
            state.comment_sets[key] = body
            return JSONResponse({"ok": True, "platform": platform})
        return JSONResponse({"ok": False, "message": "not a post url"}, status_code=400)

    @app.post("/_control/credits")
    async def set_credits(body: CreditsBody) -> dict[str, Any]:
        state.credits = body.credits
        return {"creditCount": state.credits}

    @app.post("/_control/deleted")
    async def set_deleted(body: DeletedBody) -> Response:
        for platform in PLATFORMS:
            try:
                state.deleted.add((platform, post_id_from_url(platform, body.url)))
            except BadUrl:
                continue
            return JSONResponse({"ok": True, "platform": platform})
        return JSONResponse({"ok": False, "message": "not a post url"}, status_code=400)

    @app.post("/_control/curves")
    async def set_curve(body: CurveBody) -> Response:
        for platform in PLATFORMS:
            try:
                key = f"{platform}:{post_id_from_url(platform, body.url)}"
            except BadUrl:
                continue
            state.curves[key] = body
            return JSONResponse({"ok": True, "platform": platform})
        return JSONResponse({"ok": False, "message": "not a post url"}, status_code=400)

    @app.post("/_control/advance")
    async def advance(body: AdvanceBody) -> dict[str, Any]:
        """Move this server's clock forward (posts age, counters grow) without waiting."""
        state.offset_s += body.seconds
        return {"now": now()}

    @app.get("/_control/stats")
    async def stats() -> dict[str, Any]:
        return {
            "credits": state.credits,
            "calls": len(state.calls),
            "comment_calls": len(state.comment_calls),
            "in_flight": dict(state.in_flight),
            "max_in_flight": dict(state.max_in_flight),
            "latency_ms": latency_ms,
            "now": now(),
        }

    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="fake-scrapecreators", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--credits", type=int, default=DEFAULT_CREDITS)
    parser.add_argument(
        "--anchor",
        type=float,
        default=None,
        help="unix seconds posts are aged from (default: start-up time)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="mean time of a post or comments call, drawn from 0.5x to 1.5x (default: none)",
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    uvicorn.run(
        create_app(credits=args.credits, anchor=args.anchor, latency_ms=args.latency_ms),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
    )
