"""Post bodies: the fixture templates rendered for one post, and the fixed error bodies."""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from typing import Any, Final

from .posts import (
    CurveBody,
    PlatformName,
    counters_at,
    counters_on_curve,
    extra_tags,
    hash_int,
    posted_at,
)

TEMPLATE_FILES: Final[dict[PlatformName, str]] = {
    "tiktok": "tiktok_video.json",
    "instagram": "instagram_post.json",
    "youtube": "youtube_video.json",
    "facebook": "facebook_post.json",
}

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
# The vendor answers in US Pacific; a fixed offset is enough for a fake (no DST games).
_YOUTUBE_TZ: Final = timezone(timedelta(hours=-8))


def load_templates() -> dict[PlatformName, dict[str, Any]]:
    folder = resources.files("fake_scrapecreators") / "templates"
    loaded: dict[PlatformName, dict[str, Any]] = {}
    for platform, name in TEMPLATE_FILES.items():
        body = json.loads((folder / name).read_text(encoding="utf-8"))
        assert isinstance(body, dict)
        loaded[platform] = body
    return loaded


def iso_z(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def render(
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
        a["create_time_utc"] = iso_z(posted)
        a["desc"] = (a.get("desc") or "") + extra_tags(key)
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
        m["id"] = str(3_000_000_000_000_000_000 + hash_int(key, "media-id") % 10**18)
        m["taken_at_timestamp"] = posted
        m["video_play_count"] = c.views
        m["video_view_count"] = c.views_alt
        m["edge_media_preview_like"]["count"] = c.likes
        m["edge_media_to_parent_comment"]["count"] = c.comments
        m["edge_media_preview_comment"]["count"] = c.comments
        for edge in m["edge_media_to_caption"]["edges"]:
            edge["node"]["created_at"] = str(posted)
            edge["node"]["text"] = (edge["node"].get("text") or "") + extra_tags(key)
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
        body["description"] = (body.get("description") or "") + extra_tags(key)
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
        body["creation_time"] = iso_z(posted)
        body["description"] = (body.get("description") or "") + extra_tags(key)
        body["view_count"] = c.views
        body["like_count"] = c.likes
        body["comment_count"] = c.comments
        body["share_count"] = c.shares
        body["credits_remaining"] = credits
    return body


def malformed(body: dict[str, Any], platform: PlatformName) -> dict[str, Any]:
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
