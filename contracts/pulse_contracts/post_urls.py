"""Parse a pasted social-media post URL into its platform, post id and a canonical URL (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, urlsplit

from .values import Platform

__all__ = ["PostUrl", "PostUrlError", "parse_post_url"]

MAX_URL_LENGTH: Final = 2048

_TIKTOK_ID: Final = re.compile(r"\d{1,32}")
_TIKTOK_HANDLE: Final = re.compile(r"@[A-Za-z0-9._-]{1,64}")
_SHORT_CODE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INSTAGRAM_CODE: Final = re.compile(r"[A-Za-z0-9_-]{5,64}")
# YouTube video ids are exactly 11 characters of this alphabet.
_YOUTUBE_ID: Final = re.compile(r"[A-Za-z0-9_-]{11}")
_FACEBOOK_NUMERIC: Final = re.compile(r"\d{1,32}")
# Newer Facebook post ids are opaque "pfbid..." tokens instead of numbers.
_FACEBOOK_POST_ID: Final = re.compile(r"\d{1,32}|pfbid[A-Za-z0-9]{10,100}")
_FACEBOOK_PAGE: Final = re.compile(r"[A-Za-z0-9.\-_]{1,100}")
_FACEBOOK_SHARE_CODE: Final = re.compile(r"[A-Za-z0-9]{1,64}")

_INSTAGRAM_KINDS: Final = {"p": "p", "reel": "reel", "reels": "reel", "tv": "tv"}


class PostUrlError(ValueError):
    """The URL is not one we can track; the message says why."""


@dataclass(frozen=True)
class PostUrl:
    platform: Platform
    # None only for short links whose target cannot be known without a network call.
    platform_post_id: str | None
    url: str


def parse_post_url(url: str) -> PostUrl:
    """Recognise a TikTok, Instagram, YouTube or Facebook post URL or raise PostUrlError."""
    if not isinstance(url, str):
        raise PostUrlError(f"URL must be a string, not {type(url).__name__}")
    given = url.strip()
    if not given:
        raise PostUrlError("URL is empty")
    if len(given) > MAX_URL_LENGTH:
        raise PostUrlError(f"URL is too long: {len(given)} characters, limit {MAX_URL_LENGTH}")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in given):
        raise PostUrlError("URL contains whitespace or control characters")
    if "://" not in given and re.match(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/|$)", given):
        # People paste "www.tiktok.com/@x/video/1" without a scheme.
        given = "https://" + given
    try:
        parts = urlsplit(given)
        port = parts.port
    except ValueError as exc:
        raise PostUrlError(f"URL cannot be parsed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = scheme or "none"
        raise PostUrlError(f"unsupported URL scheme {shown!r}: only http and https are accepted")
    if parts.username is not None or parts.password is not None:
        raise PostUrlError("URL must not contain a user name or password")
    if port not in (None, 80, 443):
        raise PostUrlError(f"URL must not name a port ({port})")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise PostUrlError("URL has no host")
    segments = [s for s in parts.path.split("/") if s]
    query = parse_qs(parts.query)

    if _on(host, "tiktok.com"):
        return _tiktok(host, segments, given)
    if _on(host, "instagram.com"):
        return _instagram(segments)
    if _on(host, "youtube.com") or _on(host, "youtu.be"):
        return _youtube(host, segments, query)
    if _on(host, "facebook.com") or _on(host, "fb.watch"):
        return _facebook(host, segments, query)
    raise PostUrlError(
        f"unsupported host {host!r}: expected a TikTok, Instagram, YouTube or Facebook URL"
    )


def _on(host: str, domain: str) -> bool:
    # Suffix match on a dot boundary so that "tiktok.com.evil.com" or "eviltiktok.com" fail.
    return host == domain or host.endswith("." + domain)


def _only(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _tiktok(host: str, segments: list[str], given: str) -> PostUrl:
    if host in ("vm.tiktok.com", "vt.tiktok.com") or (segments[:1] == ["t"]):
        codes = segments if segments[:1] != ["t"] else segments[1:]
        if len(codes) != 1 or not _SHORT_CODE.fullmatch(codes[0]):
            raise PostUrlError("not a TikTok short link: expected vm.tiktok.com/<code>")
        # The target video is only known after following the redirect, which is I/O.
        return PostUrl(platform="tiktok", platform_post_id=None, url=given)
    if (
        len(segments) == 3
        and _TIKTOK_HANDLE.fullmatch(segments[0])
        and segments[1] in ("video", "photo")
        and _TIKTOK_ID.fullmatch(segments[2])
    ):
        handle, kind, post_id = segments
        return PostUrl(
            platform="tiktok",
            platform_post_id=post_id,
            url=f"https://www.tiktok.com/{handle}/{kind}/{post_id}",
        )
    raise PostUrlError("not a TikTok video URL: expected /@handle/video/<id>")


def _instagram(segments: list[str]) -> PostUrl:
    # Instagram also serves /<username>/p/<code>/ and /<username>/reel/<code>/.
    for start in (0, 1):
        if len(segments) >= start + 2 and segments[start] in _INSTAGRAM_KINDS:
            code = segments[start + 1]
            if not _INSTAGRAM_CODE.fullmatch(code):
                break
            kind = _INSTAGRAM_KINDS[segments[start]]
            return PostUrl(
                platform="instagram",
                platform_post_id=code,
                url=f"https://www.instagram.com/{kind}/{code}/",
            )
    raise PostUrlError(
        "not an Instagram post URL: expected /p/<shortcode>/, /reel/<shortcode>/, "
        "/reels/<shortcode>/ or /tv/<shortcode>/"
    )


def _youtube(host: str, segments: list[str], query: dict[str, list[str]]) -> PostUrl:
    video_id: str | None = None
    kind = "watch"
    if _on(host, "youtu.be"):
        video_id = segments[0] if len(segments) == 1 else None
    elif segments == ["watch"]:
        video_id = _only(query.get("v"))
        if video_id is None:
            raise PostUrlError("YouTube watch URL has no v=<video id> parameter")
    elif len(segments) == 2 and segments[0] in ("shorts", "live", "embed"):
        video_id = segments[1]
        kind = "shorts" if segments[0] == "shorts" else "watch"
    if video_id is None:
        raise PostUrlError(
            "not a YouTube video URL: expected /watch?v=<id>, /shorts/<id> or youtu.be/<id>"
        )
    if not _YOUTUBE_ID.fullmatch(video_id):
        raise PostUrlError(f"not a YouTube video id: {video_id[:40]!r} (expected 11 characters)")
    if kind == "shorts":
        return PostUrl("youtube", video_id, f"https://www.youtube.com/shorts/{video_id}")
    return PostUrl("youtube", video_id, f"https://www.youtube.com/watch?v={video_id}")


def _facebook(host: str, segments: list[str], query: dict[str, list[str]]) -> PostUrl:
    if _on(host, "fb.watch"):
        if len(segments) == 1 and _FACEBOOK_SHARE_CODE.fullmatch(segments[0]):
            return PostUrl("facebook", segments[0], f"https://fb.watch/{segments[0]}/")
        raise PostUrlError("not a fb.watch link: expected fb.watch/<code>")
    base = "https://www.facebook.com"
    n = len(segments)
    if n >= 3 and segments[0] == "share" and segments[1] in ("r", "p", "v"):
        code = segments[2]
        if n == 3 and _FACEBOOK_SHARE_CODE.fullmatch(code):
            return PostUrl("facebook", code, f"{base}/share/{segments[1]}/{code}/")
    elif n >= 1 and segments[0] == "reel":
        if n == 2 and _FACEBOOK_NUMERIC.fullmatch(segments[1]):
            return PostUrl("facebook", segments[1], f"{base}/reel/{segments[1]}")
    elif n >= 1 and segments[0] == "watch":
        video_id = _only(query.get("v"))
        if n == 1 and video_id is not None and _FACEBOOK_NUMERIC.fullmatch(video_id):
            return PostUrl("facebook", video_id, f"{base}/watch/?v={video_id}")
        raise PostUrlError("Facebook watch URL has no numeric v=<video id> parameter")
    elif n == 3 and _FACEBOOK_PAGE.fullmatch(segments[0]):
        page, kind, post_id = segments
        if kind == "posts" and _FACEBOOK_POST_ID.fullmatch(post_id):
            return PostUrl("facebook", post_id, f"{base}/{page}/posts/{post_id}")
        if kind == "videos" and _FACEBOOK_NUMERIC.fullmatch(post_id):
            return PostUrl("facebook", post_id, f"{base}/{page}/videos/{post_id}")
    raise PostUrlError(
        "not a Facebook post URL: expected /<page>/posts/<id>, /reel/<id>, "
        "/<page>/videos/<id>, /watch/?v=<id>, /share/r|p|v/<code> or fb.watch/<code>"
    )
