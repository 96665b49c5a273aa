"""Which URLs and colours a client's view may carry (design/security.md, "Media proxy"): https
only, thumbnails only from the platforms' CDNs, and the images a link may fetch. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .domain import SharePayload

import re
from functools import lru_cache
from urllib.parse import urlsplit

# Each kpi.updated checks every post's URL and thumbnail again, mostly the same strings as the
# last one (200 posts overflow urlsplit's own cache of 128): pure answers, so kept by string.
URL_CHECKS_KEPT = 8192

# Platform CDNs whose thumbnails the client view may show (design/security.md, "Media proxy").
CDN_SUFFIXES: tuple[str, ...] = (
    "tiktokcdn.com",
    "tiktokcdn-us.com",
    "cdninstagram.com",
    "fbcdn.net",
    "ytimg.com",
    "ggpht.com",
)
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@lru_cache(maxsize=URL_CHECKS_KEPT)
def https_url(url: str | None) -> str | None:
    """Only absolute https URLs reach a client page (no javascript:, data: or relative links)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname:
        return None
    return url


@lru_cache(maxsize=URL_CHECKS_KEPT)
def cdn_url(url: str | None) -> str | None:
    """A thumbnail on a platform CDN (security.md's allow-list), else None."""
    checked = https_url(url)
    if checked is None:
        return None
    host = (urlsplit(checked).hostname or "").lower().rstrip(".")
    if any(host == s or host.endswith("." + s) for s in CDN_SUFFIXES):
        return checked
    return None


def safe_color(color: str | None) -> str | None:
    return color if color is not None and _COLOR.match(color) else None


def media_urls(payload: SharePayload) -> frozenset[str]:
    """The images a link shows (logo, avatars, thumbnails): all its media route may fetch."""
    urls = {payload.client.logo_url if payload.client else None}
    for i in payload.influencers:
        urls.add(i.avatar_url)
        urls.update(p.thumb_url for p in i.posts)
    return frozenset(u for u in urls if u is not None)
