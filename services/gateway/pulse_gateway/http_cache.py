"""Conditional GETs for numbers reads: an `ETag` on every answer, `304` when it has not changed.

The tag is a digest of the exact body, so it changes exactly when what the caller would see
changes (new numbers, a catalog edit, the timeline moving on) and never otherwise. A dashboard
that polls gets `304 Not Modified` with no body until then.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

# Staff numbers carry money: a browser may keep them, a shared cache never; revalidate each time.
# Not no-store (every other /api answer's, guards.ApiHeaders): a browser may not keep a no-store
# answer at all, so it would never send If-None-Match and these reads would never get a 304.
CACHE_CONTROL = "private, no-cache"


def dumps(content: Any) -> bytes:
    """Compact JSON, the text etagged_json sends for content without a model."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def etagged_json(request: Request, content: Any, model: type[BaseModel] | None = None) -> Response:
    """`content` as JSON (through `model` when the route declares one), tagged by its digest."""
    if model is not None:
        body = model.model_validate(content).model_dump_json().encode()
    else:
        body = dumps(content)
    return etagged_body(request, body)


def etagged_body(request: Request, body: bytes) -> Response:
    """A JSON body already encoded, tagged by its digest."""
    tag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL}
    if _matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _matches(header: str | None, tag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    # Weak comparison (RFC 9110 §13.1.2): a W/ prefix from an intermediary still matches.
    return any(part.strip().removeprefix("W/") == tag for part in header.split(","))
