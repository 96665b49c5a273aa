"""Request bodies above a route's limit are refused with 413 before the route reads them.

FastAPI reads (and parses) a body before any dependency runs, authentication included, so
without this an anonymous client could make a service buffer and parse any size it liked.
A declared Content-Length over the limit is answered at once; a body without one is counted
as it arrives and cut off as soon as it passes the limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body


class BodyLimit:
    """`default` bytes for every route, `routes` (exact paths) for those that take more."""

    def __init__(self, app: ASGIApp, *, default: int, routes: Mapping[str, int] | None = None):
        self.app = app
        self.default = default
        self.routes = dict(routes or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.routes.get(scope.get("path", ""), self.default)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response = JSONResponse(
                error_body("payload_too_large", f"body is {declared} bytes; the limit is {limit}"),
                status_code=413,
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI passes an HTTPException raised while reading on to the error
                    # handlers, which answer in the usual shape.
                    raise HTTPException(413, f"body exceeds the limit of {limit} bytes")
            return message

        await self.app(scope, counted, send)
