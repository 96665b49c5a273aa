"""Post identity and growth: the post id behind a URL, and its counters over time."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, Field

PlatformName = Literal["tiktok", "instagram", "youtube", "facebook"]

PLATFORMS: Final[tuple[PlatformName, ...]] = ("tiktok", "instagram", "youtube", "facebook")
HOSTS: Final[dict[PlatformName, tuple[str, ...]]] = {
    "tiktok": ("tiktok.com",),
    "instagram": ("instagram.com",),
    "youtube": ("youtube.com", "youtu.be"),
    "facebook": ("facebook.com", "fb.watch", "fb.com"),
}

_TIKTOK_ID: Final = re.compile(r"/(?:video|photo)/(\d+)")
_INSTAGRAM_CODE: Final = re.compile(r"/(?:p|reel|reels|tv)/([A-Za-z0-9_-]+)")
_YOUTUBE_PATH_ID: Final = re.compile(r"^/(?:shorts|live|embed|v)/([A-Za-z0-9_-]+)")
_YOUTUBE_ID: Final = re.compile(r"[A-Za-z0-9_-]+")


class CurveBody(BaseModel):
    """A post's growth given by the caller (the demo seed), so refreshes continue its history:
    views = total x (1 - e^(-hours/tau)), every other counter = views x its ratio."""

    url: str
    posted_at: float  # unix seconds
    total: float = Field(ge=0)
    tau_h: float = Field(gt=0)
    ratios: dict[str, float] = Field(default_factory=dict)  # likes, comments, shares, saves


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
            return str(7_000_000_000_000_000_000 + hash_int(url, "tiktok-short") % 10**18)
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
            return str(10**15 + hash_int(url, "facebook-id") % (9 * 10**15))
    raise BadUrl(f"could not find a {platform} post id in url")


# --- deterministic growth -----------------------------------------------------------------


def hash_int(key: str, salt: str) -> int:
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


# Tags a post's caption gains besides its template's, picked by the post's hash, so the demo's
# hashtag and mention tables (docs/insights.md) show campaigns that differ like real ones.
_EXTRA_HASHTAGS: Final = ("GlowUp", "skincare", "GiftIdeas", "selfcare", "WinterStyle", "ad")
_EXTRA_MENTIONS: Final = ("lumen.beauty", "northwind_studio", "maya.styles")


def extra_tags(key: str) -> str:
    n = hash_int(key, "caption-tags")
    picked = [_EXTRA_HASHTAGS[(n >> (3 * i)) % len(_EXTRA_HASHTAGS)] for i in range(2)]
    mention = _EXTRA_MENTIONS[(n >> 9) % len(_EXTRA_MENTIONS)]
    return " " + " ".join(f"#{tag}" for tag in dict.fromkeys(picked)) + f" @{mention}"


def unit(key: str, salt: str) -> float:
    """A number in [0, 1) fixed by (key, salt)."""
    return hash_int(key, salt) / 2**64


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
    return anchor - (600 + unit(key, "age") * 72 * 3600)


def counters_at(key: str, hours: float) -> Counters:
    """Public counters of post `key` `hours` after it went live; non-decreasing in `hours`."""
    h = max(0.0, hours)
    total = 10 ** (3.5 + 3.0 * unit(key, "total"))  # about 3k .. 3M views at saturation
    tau = 3.0 + 45.0 * unit(key, "tau")  # hours to reach ~63 % of total
    # The log tail keeps old posts moving a little, so refreshes of old posts still see growth.
    views = total * (1.0 - math.exp(-h / tau)) + total * 0.02 * math.log1p(h / 24.0)

    def share(lo: float, hi: float, salt: str) -> int:
        return math.floor(views * (lo + (hi - lo) * unit(key, salt)))

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
