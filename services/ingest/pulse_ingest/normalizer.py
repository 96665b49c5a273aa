"""Map one raw ScrapeCreators response body to a platform-neutral NormalizedPost (pure, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from pulse_contracts.values import PULLED_PLATFORMS, Platform

from .provider_bodies import (
    MALFORMED_BODY,
    OUT_OF_CREDITS,
    PROVIDER_ERROR,
    UNRECOGNISED_BODY,
    BodyPaths,
    ProviderBodyError,
    host_in,
    host_of,
    is_int,
    without_query,
)

__all__ = [
    "NormalizedPost",
    "detect_platform",
    "looks_like_provider_body",
    "normalize",
]

# Provider messages are echoed into errors that end up in events and logs; keep them bounded.
_MAX_ECHO: Final = 300
# Matched loosely because the exact wording is only known from third-party logs.
_CREDITS_RE: Final = re.compile(r"out of credits|purchase more credits", re.IGNORECASE)
_MISSING: Final = object()

_YOUTUBE_MARKERS: Final = frozenset(
    {"viewCountInt", "likeCountInt", "commentCountInt", "viewCountText", "publishDate"}
)
# post_id alone is generic; feedback_id is the Facebook-specific one (comments cursor key).
_FACEBOOK_MARKERS: Final = frozenset({"post_id", "feedback_id"})


@dataclass(frozen=True)
class NormalizedPost:
    platform: Platform
    platform_post_id: str
    author_handle: str | None
    posted_at: datetime | None
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    reach: int | None
    thumb_url: str | None
    caption: str | None
    permalink: str | None


def looks_like_provider_body(raw: Mapping[str, Any]) -> bool:
    """True for a body we can normalize or a provider error body ({"success": false, ...})."""
    if not isinstance(raw, Mapping):
        return False
    return detect_platform(raw) is not None or raw.get("success") is False


def detect_platform(raw: Mapping[str, Any]) -> Platform | None:
    """Guess the platform from the body's shape; None when no platform (or more than one) fits."""
    if not isinstance(raw, Mapping):
        return None
    found: list[Platform] = []
    if "aweme_detail" in raw:
        found.append("tiktok")
    data = raw.get("data")
    if isinstance(data, Mapping) and "xdt_shortcode_media" in data:
        found.append("instagram")
    url_host = host_of(raw.get("url"))
    if _YOUTUBE_MARKERS & raw.keys() or host_in(url_host, ("youtube.com", "youtu.be")):
        found.append("youtube")
    if _FACEBOOK_MARKERS & raw.keys() or host_in(url_host, ("facebook.com", "fb.watch")):
        found.append("facebook")
    # Two platforms matching means the shape changed under us; guessing would mislabel data.
    return found[0] if len(found) == 1 else None


def normalize(raw: Mapping[str, Any], platform: Platform | None = None) -> NormalizedPost:
    """Normalize one body; `platform` (when the caller knows it) must agree with the body."""
    if not isinstance(raw, Mapping):
        raise ProviderBodyError(
            UNRECOGNISED_BODY, f"provider body is a {type(raw).__name__}, not a JSON object"
        )
    failure = _failure(raw)
    if failure is not None:
        raise failure
    detected = detect_platform(raw)
    if platform is None:
        if detected is None:
            keys = ", ".join(sorted(str(k) for k in raw)[:10]) or "none"
            raise ProviderBodyError(
                UNRECOGNISED_BODY,
                f"cannot tell which platform this body is from (top-level keys: {keys})",
            )
        platform = detected
    elif platform not in PULLED_PLATFORMS:
        raise ProviderBodyError(UNRECOGNISED_BODY, f"no normalizer for platform {platform!r}")
    elif detected is not None and detected != platform:
        raise ProviderBodyError(
            MALFORMED_BODY, f"expected a {platform} body but it looks like a {detected} body"
        )
    return _PARSERS[platform](raw)


# --- failure detection -------------------------------------------------------------------


def _failure(raw: Mapping[str, Any]) -> ProviderBodyError | None:
    success = raw.get("success", _MISSING)
    error = raw.get("error")
    status = raw.get("status")
    status_code = raw.get("status_code", _MISSING)
    reasons: list[str] = []
    if success is False:
        reasons.append("success is false")
    if error and success is not True:
        reasons.append("body has an error")
    if status_code not in (_MISSING, None, 0, "0"):
        # TikTok-native signal; ScrapeCreators passes it through untouched.
        reasons.append(f"status_code is {status_code!r}")
    # Only Instagram uses a string "status"; on success:true bodies it would mean something else.
    if isinstance(status, str) and status.lower() != "ok" and success is not True:
        reasons.append(f"status is {status!r}")
    elif is_int(status) and status >= 400:
        reasons.append(f"status is {status}")
    text = _provider_text(raw)
    out_of_credits = 402 in (status, raw.get("statusCode")) or bool(_CREDITS_RE.search(text))
    # A credits message on a body we cannot otherwise place is still the 402 body.
    if out_of_credits and (reasons or detect_platform(raw) is None):
        return ProviderBodyError(OUT_OF_CREDITS, f"provider account is out of credits: {text}")
    if not reasons:
        return None
    detail = f": {text}" if text else ""
    return ProviderBodyError(
        PROVIDER_ERROR, f"provider reported failure ({'; '.join(reasons)}){detail}"
    )


def _provider_text(raw: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key in ("error", "message", "status_msg", "detail"):
        value = raw.get(key)
        if isinstance(value, str) and value.strip() and value.strip() not in parts:
            parts.append(value.strip())
    text = " - ".join(parts)
    return text if len(text) <= _MAX_ECHO else text[: _MAX_ECHO - 3] + "..."


# --- per-platform parsers ----------------------------------------------------------------


def _tiktok(raw: Mapping[str, Any]) -> NormalizedPost:
    p = BodyPaths("tiktok", raw)
    stats = "aweme_detail.statistics"
    p.require_mapping("aweme_detail")
    posted_at = p.timestamp("aweme_detail.create_time")
    if posted_at is None:
        # create_time_utc is ScrapeCreators' own addition and disagrees with create_time in
        # the vendor sample, so it is only a fallback.
        posted_at = p.timestamp("aweme_detail.create_time_utc")
    thumb = p.first_url("aweme_detail.video.cover.url_list")
    if thumb is None:
        thumb = p.first_url("aweme_detail.video.origin_cover.url_list")
    permalink = p.text("aweme_detail.url")
    if permalink is None:
        share_url = p.text("aweme_detail.share_url")
        # share_url carries the sharer's tracking query (u_code, sharer_language).
        permalink = without_query(share_url) if share_url else None
    return NormalizedPost(
        platform="tiktok",
        platform_post_id=p.required_id("aweme_detail.aweme_id"),
        author_handle=p.text("aweme_detail.author.unique_id"),
        posted_at=posted_at,
        views=p.counter(f"{stats}.play_count"),
        likes=p.counter(f"{stats}.digg_count"),
        comments=p.counter(f"{stats}.comment_count"),
        shares=p.counter(f"{stats}.share_count"),
        saves=p.counter(f"{stats}.collect_count"),
        reach=None,
        thumb_url=thumb,
        caption=p.text("aweme_detail.desc"),
        permalink=permalink,
    )


def _instagram(raw: Mapping[str, Any]) -> NormalizedPost:
    p = BodyPaths("instagram", raw)
    m = "data.xdt_shortcode_media"
    p.require_mapping(m)
    shortcode = p.required_id(f"{m}.shortcode")
    comments = p.counter(f"{m}.edge_media_to_parent_comment.count")
    if comments is None:
        comments = p.counter(f"{m}.edge_media_preview_comment.count")
    thumb = p.text(f"{m}.display_url")
    if thumb is None:
        thumb = p.text(f"{m}.thumbnail_src")
    caption_edges = p.get(f"{m}.edge_media_to_caption.edges")
    caption = None
    if isinstance(caption_edges, Sequence) and not isinstance(caption_edges, str | bytes):
        if caption_edges:
            caption = p.text(f"{m}.edge_media_to_caption.edges.0.node.text")
    elif caption_edges is not None:
        raise p.malformed(f"{m}.edge_media_to_caption.edges", "is not a list")
    return NormalizedPost(
        platform="instagram",
        platform_post_id=shortcode,
        author_handle=p.text(f"{m}.owner.username"),
        posted_at=p.timestamp(f"{m}.taken_at_timestamp"),
        # video_view_count is a different, smaller number in every vendor sample; the
        # public "views" figure is video_play_count.
        views=p.counter(f"{m}.video_play_count"),
        likes=p.counter(f"{m}.edge_media_preview_like.count"),
        comments=comments,
        shares=None,
        saves=None,
        reach=None,
        thumb_url=thumb,
        caption=caption,
        permalink=f"https://www.instagram.com/reel/{shortcode}/",
    )


def _youtube(raw: Mapping[str, Any]) -> NormalizedPost:
    p = BodyPaths("youtube", raw)
    handle = p.text("channel.handle")
    if handle is not None:
        handle = handle.lstrip("@") or None
    title = p.text("title")
    description = p.text("description")
    # Disclosures (#ad, "paid partnership") usually live in the description, not the title.
    caption = "\n\n".join(part for part in (title, description) if part) or None
    return NormalizedPost(
        platform="youtube",
        platform_post_id=p.required_id("id"),
        author_handle=handle,
        posted_at=p.timestamp("publishDate"),
        views=p.counter("viewCountInt"),
        likes=p.counter("likeCountInt"),
        comments=p.counter("commentCountInt"),
        shares=None,
        saves=None,
        reach=None,
        thumb_url=p.text("thumbnail"),
        caption=caption,
        permalink=p.text("url"),
    )


def _facebook(raw: Mapping[str, Any]) -> NormalizedPost:
    p = BodyPaths("facebook", raw)
    thumb = p.text("video.thumbnail")
    if thumb is None:
        thumb = p.text("image_url")
    return NormalizedPost(
        platform="facebook",
        platform_post_id=p.required_id("post_id"),
        # Facebook bodies have no handle; the vanity slug of author.url is the closest thing.
        author_handle=_facebook_slug(p.text("author.url")),
        posted_at=p.timestamp("creation_time"),
        views=p.counter("view_count"),
        likes=p.counter("like_count"),
        comments=p.counter("comment_count"),
        shares=p.counter("share_count"),
        saves=None,
        reach=None,
        thumb_url=thumb,
        caption=p.text("description"),
        permalink=p.text("url"),
    )


_PARSERS: Final[dict[str, Callable[[Mapping[str, Any]], NormalizedPost]]] = {
    "tiktok": _tiktok,
    "instagram": _instagram,
    "youtube": _youtube,
    "facebook": _facebook,
}


def _facebook_slug(url: str | None) -> str | None:
    if url is None or not host_in(host_of(url), ("facebook.com",)):
        return None
    segments = [s for s in urlsplit(url).path.split("/") if s]
    # profile.php?id=... and /people/Name/<id> are numeric-id profiles with no vanity slug.
    if len(segments) != 1 or segments[0].lower() in {"profile.php", "people"}:
        return None
    return segments[0]
