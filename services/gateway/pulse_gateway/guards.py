"""What every gateway answer carries, and what an anonymous request may not send.

Pure ASGI (no BaseHTTPMiddleware): they touch headers only, and never buffer a body.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pulse_runtime.errors import error_body

from .deps import SESSION_COOKIE

# One year, subdomains included: sent only on answers that came over HTTPS (directly, or from a
# trusted proxy's X-Forwarded-Proto), since a browser ignores it over plain HTTP anyway.
HSTS = "max-age=31536000; includeSubDomains"
JSON_BODY_LIMIT = 1024 * 1024  # every route's request body, unless the route sets its own


class ApiHeaders:
    """`X-Content-Type-Options: nosniff` on every answer; `Cache-Control: no-store` on every
    `/api` answer that did not choose its own. The numbers reads choose `private, no-cache`
    (http_cache.py) and keep it: they answer 304 to If-None-Match, and no-store would forbid
    the browser the copy that revalidation needs. HSTS when served over HTTPS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith("/api/")
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if api and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CredentialsBeforeLargeBodies:
    """The routes allowed bodies beyond the JSON limit (CSV uploads) are multipart forms, which
    FastAPI reads before any dependency runs, authentication included. A request to them that
    carries no credential at all is refused before a byte of its body is read; one that does
    is still authenticated properly by the route."""

    def __init__(self, app: ASGIApp, paths: frozenset[str]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") in self.paths:
            headers = Headers(scope=scope)
            signed = "authorization" in headers or SESSION_COOKIE in cookie_parser(
                headers.get("cookie", "")
            )
            if not signed:
                response = JSONResponse(
                    error_body("unauthorized", "sign in first: no session cookie or bearer token"),
                    status_code=401,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
