"""What every dashboard page shares: templates, sign-in, errors, headers and number formatting.

Adding a page (part 2 and later):
- Create `pulse_gateway/pages/<screen>.py` with `router = page_router()`; the package finds it
  (no registration needed), like the API's routers.
- Take the signed-in person with `viewer: Viewer` (a dependency): it redirects to
  /login?next=… when nobody is signed in, and exposes `viewer.principal` for the same
  handlers, repositories and peers the /api routes use. Never compute KPIs here.
- Return `render(request, "<screen>.html", **context)`; templates extend "base.html" and use
  the macros in "components/ui.html". An `ApiError` raised anywhere becomes an HTML error page
  (404 for another organization's ids, exactly like a missing one).
- Unsafe requests (forms) go through htmx (`hx-post`…): <body hx-headers> adds the CSRF header
  that `deps.authenticate` checks. No inline scripts, styles or `hx-on`: the CSP forbids them;
  behaviour lives in static/app.js, widths in `data-width` (app.js applies them).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from markupsafe import Markup

from pulse_contracts import utcnow
from pulse_report.formats import fmt_ago as report_ago
from pulse_runtime.errors import ApiError
from pulse_runtime.logging import get_logger

from ..context import GatewayContext
from ..db import org_read
from ..deps import CSRF_COOKIE, Principal, authenticate, gateway_context
from ..repository import users

log = get_logger(__name__)
PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"

# Pages load only this origin's files: no inline script or style, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
T = TypeVar("T")


class LoginRequired(Exception):
    """Nobody (or an expired session) is signed in: the page answers with a redirect."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as the pages show them."""

    principal: Principal
    email: str
    name: str
    org_name: str
    csrf_token: str

    @property
    def can_manage(self) -> bool:
        return self.principal.role in ("manager", "owner")

    @property
    def is_owner(self) -> bool:
        return self.principal.role == "owner"


async def signed_in(request: Request) -> Viewer:
    ctx: GatewayContext = gateway_context(request)
    if request.headers.get("authorization"):
        # Pages are for browsers: a bearer credential never opens them.
        raise LoginRequired(_here(request))
    try:
        principal = await authenticate(request, ctx)
    except ApiError as exc:
        if exc.status == 401:
            raise LoginRequired(_here(request)) from exc
        raise
    async with org_read(ctx.pool, principal.org_id) as conn:
        row = await users.viewer(conn, org_id=principal.org_id, user_id=principal.user_id)
    if row is None:
        raise LoginRequired(_here(request))
    viewer = Viewer(
        principal=principal,
        email=row["email"],
        name=row["name"],
        org_name=row["org_name"],
        csrf_token=request.cookies.get(CSRF_COOKIE, ""),
    )
    request.state.viewer = viewer
    return viewer


ViewerDep = Annotated[Viewer, Depends(signed_in)]


def _here(request: Request) -> str:
    if request.headers.get("hx-request") and (current := request.headers.get("hx-current-url")):
        return current  # a fragment's own URL is no place to come back to
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


def safe_next(raw: str | None) -> str:
    """Only a path on this site: never an absolute or protocol-relative URL (open redirect)."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/campaigns"
    return raw


def login_redirect(request: Request, next_url: str) -> Response:
    target = "/login?next=" + quote(safe_next(next_url), safe="/")
    if request.headers.get("hx-request"):
        # htmx would swap the login page into a fragment; make the browser go there instead.
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


class PageRoute(APIRoute):
    """Page routes answer in HTML: errors become error pages, every answer gets the CSP and
    a Server-Timing header with the time spent on the server."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            started = time.perf_counter()
            try:
                response = await handler(request)
            except LoginRequired as exc:
                response = login_redirect(request, exc.next_url)
            except ApiError as exc:
                response = error_page(request, exc.status, exc.message)
            except RequestValidationError as exc:
                # A malformed id in the address is a page that does not exist.
                in_path = any(error["loc"][:1] == ("path",) for error in exc.errors())
                response = error_page(request, 404 if in_path else 422, "Check the address.")
            elapsed_ms = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = f"render;dur={elapsed_ms:.1f}"
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return page_handler


def page_router(**kwargs: Any) -> APIRouter:
    """A router for pages: HTML errors, CSP, Server-Timing, and kept out of the OpenAPI."""
    return APIRouter(route_class=PageRoute, include_in_schema=False, **kwargs)


ERROR_TITLES = {
    403: "Not allowed",
    404: "Not found",
    422: "That request was not valid",
    503: "A service is unavailable",
}


def error_page(request: Request, status: int, message: str) -> Response:
    title = ERROR_TITLES.get(status, "Something went wrong")
    if status == 404:
        message = "This page does not exist, or it belongs to another organization."
    return render(
        request, "error.html", status_code=status, status=status, title=title, message=message
    )


async def optional(call: Awaitable[T], fallback: T, notices: list[str]) -> T:
    """A peer that is down leaves its part of the page empty with a notice, not a broken page."""
    try:
        return await call
    except ApiError as exc:
        if exc.status != 503:
            raise
        notices.append(exc.message)
        return fallback


# ---------------------------------------------------------------- formatting (template filters)

NA = Markup('<span class="na" title="not available">n/a</span>')
CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "SEK": "SEK "}


def fmt_number(value: int | float | None) -> str | Markup:
    """Thousands separators; 'n/a' for a value that is not available (never a fake 0)."""
    if value is None:
        return NA
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def fmt_compact(value: int | float | None) -> str | Markup:
    """1.25M, 845K: for tight places (cards' subtitles, grids); full numbers elsewhere. Two
    decimals at most: "1.3M" for a 1.25M commitment misstates it."""
    if value is None:
        return NA
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if abs(value) >= size:
            scaled = Decimal(str(value)) / size
            digits = scaled.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            return f"{digits.normalize():f}{suffix}"
    return f"{int(value):,}"


def fmt_pct(value: float | None) -> str | Markup:
    """Two decimals and a % sign (figures arrive already rounded by the aggregator)."""
    if value is None:
        return NA
    return f"{value:,.2f}%"


def _sign(currency: str | None) -> tuple[str, str]:
    code = (currency or "").upper()
    sign = CURRENCY_SIGNS.get(code)
    return (sign, "") if sign else ("", f" {code}" if code else "")


def fmt_money(cents: int | None, currency: str | None = None, whole: bool = False) -> str | Markup:
    """Integer cents as money: €1,234.56 (or €1,235 with `whole`); 'n/a' when unknown."""
    if cents is None:
        return NA
    prefix, suffix = _sign(currency)
    amount = Decimal(cents) / 100
    minus = "-" if amount < 0 else ""
    if whole:
        rounded = abs(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return f"{minus}{prefix}{rounded:,}{suffix}"
    return f"{minus}{prefix}{abs(amount):,.2f}{suffix}"


def fmt_rate(value: float | None, currency: str | None = None) -> str | Markup:
    """A money rate in currency units (CPM, CPE): €12.40; 'n/a' on a zero denominator."""
    if value is None:
        return NA
    prefix, suffix = _sign(currency)
    return f"{prefix}{value:,.2f}{suffix}"


def estimated_badge(estimated: bool | None) -> Markup:
    if not estimated:
        return Markup("")
    return Markup(
        '<span class="badge badge-est" title="estimated, not measured by the platform">est.</span>'
    )


def fmt_date(value: date | datetime | str | None) -> str | Markup:
    if value is None:
        return NA
    parsed = _parse_moment(value)
    return parsed.strftime("%-d %b %Y")


def fmt_ago(value: datetime | str | None) -> str | Markup:
    """How long ago, in the largest sensible unit: 'just now', '5 min ago', '3 h ago'."""
    if value is None:
        return NA
    moment = _parse_moment(value)
    if not isinstance(moment, datetime):
        return fmt_date(moment)
    return report_ago(moment, utcnow())  # the client view's words, the same everywhere


def fmt_datetime(value: datetime | str | None) -> str | Markup:
    if value is None:
        return NA
    moment = _parse_moment(value)
    if not isinstance(moment, datetime):
        return fmt_date(moment)
    return moment.astimezone(UTC).strftime("%-d %b %Y, %H:%M UTC")


def _parse_moment(value: date | datetime | str) -> date | datetime:
    if isinstance(value, str):
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def clamp_pct(value: float | None) -> float:
    """A width for a bar: 0–100 whatever the figure (a campaign may deliver 240%)."""
    if value is None:
        return 0.0
    return max(0.0, min(100.0, float(value)))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=fmt_number,
        compact=fmt_compact,
        pct=fmt_pct,
        money=fmt_money,
        rate=fmt_rate,
        est=estimated_badge,
        day=fmt_date,
        ago=fmt_ago,
        moment=fmt_datetime,
        width=clamp_pct,
    )
    return env


templates = _environment()

# An account manager's navigation. "Settings" holds people, tokens, alert thresholds and
# notification channels, and the system's health (/docs/architecture) is one of its tabs.
NAV = [
    ("campaigns", "Campaigns", "/campaigns"),
    ("alerts", "Alerts", "/alerts"),
    ("compare", "Compare", "/compare"),
    ("reports", "Reports", "/reports"),
    ("benchmarks", "Benchmarks", "/benchmarks"),
    ("influencers", "Influencers", "/influencers"),
    ("clients", "Clients", "/clients"),
    ("runs", "Runs", "/runs"),
    ("health", "Health", "/red-flags"),
    ("settings", "Settings", "/settings"),
]


def _section(path: str) -> str:
    for key, _, href in NAV:
        if path == href or path.startswith(href + "/") or path.startswith(href + "?"):
            return key
    if path.startswith("/rejected-items"):
        return "runs"
    if path.startswith(("/users", "/tokens", "/docs/architecture")):
        return "settings"
    return ""


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The template with what every page needs: the viewer, the nav section, the CSRF token."""
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    body = templates.get_template(template).render(
        request=request,
        viewer=viewer,
        nav=NAV,
        section=_section(request.url.path),
        csrf_token=viewer.csrf_token if viewer else "",
        now=utcnow(),
        **context,
    )
    return HTMLResponse(body, status_code=status_code, headers=headers)


def is_fragment_request(request: Request) -> bool:
    """An htmx swap (not a history restore, which needs the whole page)."""
    return bool(
        request.headers.get("hx-request") and not request.headers.get("hx-history-restore-request")
    )


def pages(
    path: str,
    filters: dict[str, str],
    cursor: str,
    next_cursor: str | None,
    *,
    cursor_name: str = "cursor",
) -> dict[str, Any]:
    """The links of a list shown a page at a time by cursor: back to the first page (when this
    one is a later one) and on to the next (when there is more), keeping the filters."""
    kept = {name: value for name, value in filters.items() if value}

    def href(**more: str) -> str:
        query = urlencode({**kept, **more})
        return f"{path}?{query}" if query else path

    return {
        "first_href": href() if cursor else None,
        "next_href": href(**{cursor_name: next_cursor}) if next_cursor else None,
    }
