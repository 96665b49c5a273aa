"""The only public surface of Pulse: a client opening a share link (no sign-in).

Unknown, expired and revoked tokens get one and the same 404 per route, decided after the
same single lookup; every response carries the headers of design/security.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs

import httpx
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pulse_contracts import utcnow
from pulse_contracts.internal.share import encodable
from pulse_runtime.db import PoolGetter
from pulse_runtime.errors import error_body
from pulse_runtime.http import read_body
from pulse_runtime.media_proxy import MAX_URL_LENGTH, MediaProxy, MediaProxyError, check_url

from . import handlers, report_jobs
from .handlers import Visitor
from .links import sign_unlock, token_digest
from .media import media_urls
from .ratelimit import TokenBuckets, retry_after
from .render import (
    API_CSP,
    Page,
    locked_page,
    media_src,
    not_found_page,
    not_ready_page,
    preparing_page,
    report_failed_page,
    report_filename,
    share_page,
    too_many_page,
)

MediaGetter = Callable[[], MediaProxy | None]
ReporterGetter = Callable[[], httpx.AsyncClient | None]
UNLOCK_COOKIE = "pulse_share_unlock"
NOT_FOUND = "this link does not exist or is no longer available"
MAX_TOKEN_LENGTH = 100  # tokens are 43 characters; anything far longer is not one
MAX_UNLOCK_BODY = 4096
NOT_READY_RETRY_S = "30"
PREPARING_REFRESH_S = 2

SECURITY_HEADERS: dict[str, str] = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}


# As raw ASGI headers, set on every response: written into the message's header list, which
# costs a fifth of setting them one by one through MutableHeaders (1.7 against 7.8 µs, on every
# view of bench P5).
_SECURITY_RAW = [
    (name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()
]
_SECURITY_NAMES = frozenset(name for name, _ in _SECURITY_RAW)
_CSP_NAME = b"content-security-policy"


def with_security_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A response's headers with the share headers set (replacing any of the same name) and the
    API's Content-Security-Policy unless the response brings its own."""
    kept = [(name, value) for name, value in headers if name.lower() not in _SECURITY_NAMES]
    kept.extend(_SECURITY_RAW)
    if not any(name.lower() == _CSP_NAME for name, _ in kept):
        kept.append((_CSP_NAME, API_CSP.encode()))
    return kept


class SecurityHeaders:
    """Every response of the service, errors included, carries the share headers; a route that
    sets its own Content-Security-Policy (the page, with its stylesheet's hash) keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = with_security_headers(message.get("headers", ()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # A crash answers 500 with the same headers; the exception still propagates to
            # the server's error middleware, which logs it (and sends nothing more).
            if not started:
                response = JSONResponse(
                    error_body("internal_error", "something went wrong; try again shortly"),
                    status_code=500,
                )
                await response(scope, receive, send_with_headers)
            raise


@dataclass(frozen=True)
class Limits:
    """Per-process token buckets: per caller address, per link (keyed by the token's hash, so an
    unknown token is limited exactly like a real one), and a stricter one for password tries."""

    per_address: TokenBuckets
    per_link: TokenBuckets
    unlock_per_link: TokenBuckets


@dataclass(frozen=True)
class PublicConfig:
    unlock_key: bytes
    unlock_ttl: timedelta
    secure_cookies: bool
    # The PDF is a report job (report_jobs.py); the reporter hands over the file.
    reporter_url: str = "http://127.0.0.1:8005"


class UnlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=200)

    @field_validator("password")
    @classmethod
    def _encodable(cls, value: str) -> str:
        return encodable(value)


def _visitor(request: Request) -> Visitor:
    return Visitor(
        host=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent", ""),
        unlock_cookie=request.cookies.get(UNLOCK_COOKIE),
    )


def _html(page: Page, status: int, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(
        page.html,
        status_code=status,
        headers={"Content-Security-Policy": page.csp, **(headers or {})},
    )


def _json_error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers or None)


def _not_found_json() -> JSONResponse:
    return _json_error(404, "not_found", NOT_FOUND)


def public_routes(
    pool: PoolGetter,
    limits: Limits,
    config: PublicConfig,
    media: MediaGetter,
    reporter: ReporterGetter = lambda: None,
) -> APIRouter:
    router = APIRouter(tags=["share"])
    # Per replica: parsed projections, batched link lookups and group-committed view writes.
    public = handlers.PublicViews.of(pool)

    def proxiable(url: str) -> bool:
        """Whether this service's media proxy would fetch `url` at all (host allow-list)."""
        proxy = media()
        if proxy is None:
            return False
        try:
            check_url(url, proxy.suffixes)
        except MediaProxyError:
            return False
        return True

    def throttled(request: Request, token: str, *, unlock: bool = False) -> str | None:
        """Retry-After seconds when the caller or the link is over its rate, else None."""
        host = request.client.host if request.client else "unknown"
        if wait := limits.per_address.take(host):
            return retry_after(wait)
        link_key = token_digest(token[:MAX_TOKEN_LENGTH])
        if wait := limits.per_link.take(link_key):
            return retry_after(wait)
        if unlock and (wait := limits.unlock_per_link.take(link_key)):
            return retry_after(wait)
        return None

    async def opened(request: Request, token: str, surface: str) -> handlers.Opened:
        if len(token) > MAX_TOKEN_LENGTH:
            return handlers.Opened(link=None)
        return await handlers.open_link(
            pool(),
            public,
            token,
            _visitor(request),
            surface=surface,
            key=config.unlock_key,
            now=utcnow(),
        )

    @router.get("/api/share/{token}")
    async def share_json(request: Request, token: str) -> Response:
        """The redacted payload (design/api.md's allow-list) of the link's campaign."""
        if wait := throttled(request, token):
            return _json_error(
                429, "too_many_requests", "too many requests", **{"Retry-After": wait}
            )
        found = await opened(request, token, "json")
        if found.link is None:
            return _not_found_json()
        if found.locked:
            return _json_error(
                401, "password_required", "this link needs its password: POST it to /unlock"
            )
        if found.seen is None:
            return _json_error(
                503,
                "not_ready",
                "the campaign's report is being prepared",
                **{"Retry-After": NOT_READY_RETRY_S},
            )
        if found.forecast is None and found.emv is None:
            return Response(found.seen.json(), media_type="application/json")
        # A link that opted in gets the delivery forecast and/or EMV beside the allow-listed
        # payload: each only where it opted in.
        body = found.seen.payload.model_dump(mode="json")
        if found.forecast is not None:
            body["forecast"] = found.forecast.model_dump(mode="json")
        if found.emv is not None:
            body["emv"] = found.emv.model_dump(mode="json")
        return JSONResponse(body)

    @router.get("/share/{token}", response_class=HTMLResponse)
    async def share_view(request: Request, token: str, days: str | None = None) -> Response:
        """The client view: one server-rendered page, no script. `?days=7|14|30` narrows the
        chart to the last days, against the days before (anything else: the whole campaign)."""
        if wait := throttled(request, token):
            return _html(too_many_page(), 429, {"Retry-After": wait})
        found = await opened(request, token, "page")
        if found.link is None:
            return _html(not_found_page(), 404)
        if found.locked:
            client = await handlers.link_client(pool(), found.link)
            return _html(locked_page(token, wrong_password=False, client=client), 401)
        if found.payload is None:
            return _html(not_ready_page(), 503, {"Retry-After": NOT_READY_RETRY_S})
        page = share_page(
            found.payload,
            pdf_href=f"/share/{token}/report.pdf",
            media=media_src(token, proxiable),
            period_days=int(days) if days and days.isdigit() and len(days) < 4 else None,
            forecast=found.forecast,
            emv=found.emv,
        )
        return _html(page, 200)

    @router.get("/share/{token}/report.pdf", response_class=Response)
    async def share_report(request: Request, token: str) -> Response:
        """The client view as an A4 PDF: the page's rules, answers and payload, printed by
        the reporter. Never held open: "preparing your report…" until the file is there."""
        if wait := throttled(request, token):
            return _html(too_many_page(), 429, {"Retry-After": wait})
        found = await opened(request, token, "pdf")
        if found.link is None:
            return _html(not_found_page(), 404)
        if found.locked:
            client = await handlers.link_client(pool(), found.link)
            return _html(locked_page(token, wrong_password=False, client=client), 401)
        if found.payload is None:
            return _html(not_ready_page(), 503, {"Retry-After": NOT_READY_RETRY_S})
        link, payload = found.link, found.payload

        async def ask() -> report_jobs.ShareJob:
            return await report_jobs.job_for(
                pool(),
                link_id=link.id,
                org_id=link.org_id,
                version=link.projection_version or payload.generated_at,
                payload=payload,
                now=utcnow(),
                forecast=found.forecast,  # set only for a link that opted in
                emv=found.emv,  # likewise
            )

        job = await ask()
        http = reporter()
        if job.status == "done" and http is not None:
            try:
                pdf = await report_jobs.fetch_file(http, config.reporter_url, job)
            except httpx.HTTPError:
                return _html(report_failed_page(token), 503, {"Retry-After": "30"})
            if pdf is not None:
                filename = report_filename(payload.campaign.name)
                return Response(
                    pdf.content,
                    media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'},
                )
            await report_jobs.forget_file(pool(), job)  # expired: ask for it again
            job = await ask()
        if job.status == "failed":
            return _html(report_failed_page(token), 503, {"Retry-After": "60"})
        # Answered at once: the page refreshes itself until the same URL answers the PDF.
        refresh = str(PREPARING_REFRESH_S)
        page = preparing_page(token, job.progress, PREPARING_REFRESH_S)
        return _html(page, 202, {"Retry-After": refresh, "Refresh": refresh})

    @router.get("/share/{token}/media", response_class=Response)
    async def share_media(
        request: Request,
        token: str,
        url: Annotated[str, Query(min_length=1, max_length=MAX_URL_LENGTH)],
    ) -> Response:
        """An image the link's view shows (logo, avatar, thumbnail), through the media proxy.
        Any other URL answers the link's 404: a link is not an open proxy."""
        if wait := throttled(request, token):
            return _json_error(
                429, "too_many_requests", "too many requests", **{"Retry-After": wait}
            )
        found = handlers.Opened(link=None)
        if len(token) <= MAX_TOKEN_LENGTH:
            found = await handlers.link_media(
                pool(), public, token, _visitor(request), key=config.unlock_key, now=utcnow()
            )
        if found.link is None:
            return _not_found_json()
        if found.locked:
            return _json_error(
                401, "password_required", "this link needs its password: POST it to /unlock"
            )
        if found.payload is None or url not in media_urls(found.payload):
            return _not_found_json()
        proxy = media()
        if proxy is None:
            return _json_error(503, "unavailable", "the media proxy is not running")
        try:
            image = await proxy.fetch(url)
        except MediaProxyError as exc:
            return _json_error(exc.status, exc.code, exc.message)
        return Response(image.body, headers=image.headers)

    @router.post("/share/{token}/unlock")
    async def unlock(request: Request, token: str) -> Response:
        """`{password}` as JSON or a form post from the page: a short-lived cookie for this link."""
        as_form = "application/x-www-form-urlencoded" in request.headers.get("content-type", "")
        if wait := throttled(request, token, unlock=True):
            if as_form:
                return _html(too_many_page(), 429, {"Retry-After": wait})
            return _json_error(
                429, "too_many_requests", "too many requests", **{"Retry-After": wait}
            )
        body = await read_body(request, MAX_UNLOCK_BODY)
        try:
            password = _password(body, as_form)
        except ValidationError as exc:
            details = [{"path": "password", "message": e["msg"]} for e in exc.errors()]
            return JSONResponse(
                error_body("validation_error", "invalid fields: password", details),
                status_code=422,
            )
        now = utcnow()
        link = None
        if len(token) <= MAX_TOKEN_LENGTH:
            link = await handlers.find_active_link(pool(), token, now)
        if link is None:
            return _html(not_found_page(), 404) if as_form else _not_found_json()
        until = await handlers.unlock_link(
            pool(), link, password, _visitor(request), ttl=config.unlock_ttl, now=now
        )
        if until is None:
            if as_form:
                client = await handlers.link_client(pool(), link)
                return _html(locked_page(token, wrong_password=True, client=client), 401)
            return _json_error(401, "wrong_password", "wrong password")
        response: Response
        if as_form:
            response = RedirectResponse(f"/share/{token}", status_code=303)
        else:
            response = JSONResponse({"unlocked": True, "until": until.isoformat()})
        if link.password_hash is not None:
            cookie = sign_unlock(config.unlock_key, link.id, link.password_hash, until)
            max_age = max(1, int((until - now).total_seconds()))
            # Scoped to this link's paths: the page (and what lies under it) and its JSON.
            for path in (f"/share/{token}", f"/api/share/{token}"):
                response.set_cookie(
                    UNLOCK_COOKIE,
                    cookie,
                    max_age=max_age,
                    path=path,
                    httponly=True,
                    secure=config.secure_cookies,
                    samesite="lax",
                )
        return response

    return router


def _password(body: bytes, as_form: bool) -> str:
    raw: Any
    if as_form:
        values = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=5)
        raw = {"password": values.get("password", [""])[0]}
    else:
        try:
            raw = json.loads(body or b"{}")
        except ValueError:
            raw = None
    return UnlockIn.model_validate(raw if isinstance(raw, dict) else {}).password
