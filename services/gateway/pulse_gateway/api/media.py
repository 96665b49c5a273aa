"""/api/media-proxy: platform-CDN thumbnails through the SSRF-hardened proxy (security.md)."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Query, Request, Response

from pulse_runtime.errors import ApiError

from ..deps import Reader
from ..media_proxy import MAX_URL_LENGTH, MediaProxy, MediaProxyError

router = APIRouter(tags=["media"])


def media_proxy(request: Request) -> MediaProxy:
    """The app's one proxy, created on first use with an HTTP client of its own: it never
    shares the peers' client, whose default headers carry the service token."""
    proxy: MediaProxy | None = getattr(request.app.state, "media_proxy", None)
    if proxy is None:
        proxy = MediaProxy(http=httpx.AsyncClient(trust_env=False))
        request.app.state.media_proxy = proxy
    return proxy


@router.get("/api/media-proxy")
async def proxy_image(
    request: Request,
    caller: Reader,
    url: Annotated[str, Query(min_length=1, max_length=MAX_URL_LENGTH)],
) -> Response:
    try:
        image = await media_proxy(request).fetch(url)
    except MediaProxyError as exc:
        raise ApiError(exc.status, exc.message, code=exc.code) from exc
    return Response(content=image.body, headers=image.headers)
