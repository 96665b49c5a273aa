"""/api/media-proxy: platform-CDN thumbnails through the SSRF-hardened proxy (security.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from pulse_runtime.errors import ApiError
from pulse_runtime.media_proxy import MAX_URL_LENGTH, MediaProxyError

from ..deps import ContextDep, UncountedReader

router = APIRouter(tags=["media"])


@router.get("/api/media-proxy")
async def proxy_image(
    ctx: ContextDep,
    caller: UncountedReader,
    url: Annotated[str, Query(min_length=1, max_length=MAX_URL_LENGTH)],
) -> Response:
    try:
        if ctx.media is None:
            raise ApiError(503, "the media proxy is not running")
        image = await ctx.media.fetch(url)
    except MediaProxyError as exc:
        raise ApiError(exc.status, exc.message, code=exc.code) from exc
    return Response(content=image.body, headers=image.headers)
