"""The client view as HTML and as a printable PDF: Jinja2 templates, number formats, the
server-drawn SVG chart, and the Content-Security-Policy that admits exactly the page's own
stylesheet and nothing else."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .domain import ShareDay, SharePayload, safe_color

with warnings.catch_warnings():
    # Without the system's HarfBuzz-Subset library WeasyPrint subsets fonts with fontTools and
    # says so at import, as a DeprecationWarning; the PDFs are the same.
    warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
    import weasyprint  # type: ignore[import-untyped]

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_BRAND = "#3949ab"
PLATFORM_NAMES = {
    "tiktok": "TikTok",
    "instagram": "Instagram",
    "youtube": "YouTube",
    "facebook": "Facebook",
    "other": "Other",
}
# Anything the page does not name here is refused by the browser: no script at all, images
# over https only, the one inline stylesheet by its hash, forms posting back to this origin.
_CSP = (
    "default-src 'none'; img-src https: data:; style-src {style}; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
MAX_SLUG = 60


@dataclass(frozen=True)
class Page:
    html: str
    csp: str


@cache
def _environment() -> Environment:
    """Templates are read on first use, not at import."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html", "svg"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=fmt_number,
        compact=fmt_compact,
        pct=fmt_pct,
        day=fmt_date,
        when=fmt_datetime,
        platform=lambda p: PLATFORM_NAMES.get(p, str(p).title()),
    )
    return env


# --- formats ----------------------------------------------------------------------------------


def fmt_number(value: int | None) -> str:
    """Counts with thousands separators; a count the platform does not expose is "n/a"."""
    return "n/a" if value is None else f"{value:,}"


def fmt_compact(value: int | float) -> str:
    """Axis labels: 1.2M, 850K."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if magnitude >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}"


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}%"


def fmt_date(value: date | None) -> str:
    return "—" if value is None else f"{value.day} {value:%b %Y}"


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    utc = value.astimezone(UTC) if value.tzinfo else value
    return f"{utc.day} {utc:%b %Y, %H:%M} UTC"


def on_color(background: str) -> str:
    """Black or white text, whichever reads better on `background` (WCAG relative luminance)."""
    channels = [int(background[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#111111" if luminance > 0.179 else "#ffffff"


# --- the daily growth chart -------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    line: str  # polyline points of cumulative views
    area: str  # path of the area under it
    bars: list[Bar]  # new views per day
    ticks: list[Tick]
    first_label: str
    last_label: str
    summary: str


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ value: round axis maxima."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def growth_chart(daily: Sequence[ShareDay], width: int = 720, height: int = 260) -> Chart | None:
    """Cumulative views as a line over new views per day as bars, in SVG user units."""
    if not daily:
        return None
    left, right, top, bottom = 56, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_ceiling(max(max(d.views_cum for d in daily), 1))
    bar_max = max(max(d.views_delta for d in daily), 1)
    n = len(daily)
    slot = plot_w / n
    base_y = top + plot_h

    def y_of(value: float) -> float:
        return round(base_y - plot_h * max(value, 0) / top_value, 2)

    xs = [round(left + slot * (i + 0.5), 2) for i in range(n)]
    points = [(x, y_of(d.views_cum)) for x, d in zip(xs, daily, strict=True)]
    line = " ".join(f"{x},{y}" for x, y in points)
    area = (
        f"M{points[0][0]},{base_y} "
        + " ".join(f"L{x},{y}" for x, y in points)
        + f" L{points[-1][0]},{base_y} Z"
    )
    # Bars use 40% of the height on their own scale, so quiet days stay visible under the line.
    bar_w = round(max(slot * 0.6, 1.0), 2)
    bars = []
    for x, d in zip(xs, daily, strict=True):
        h = round(plot_h * 0.4 * max(d.views_delta, 0) / bar_max, 2)
        bars.append(
            Bar(
                x=round(x - bar_w / 2, 2),
                y=round(base_y - h, 2),
                width=bar_w,
                height=h,
                label=f"{fmt_date(d.date)}: {fmt_number(d.views_delta)} new views",
            )
        )
    ticks = [Tick(y=y_of(top_value * f), label=fmt_compact(top_value * f)) for f in (0, 0.5, 1)]
    last = daily[-1]
    summary = (
        f"Views grew to {fmt_number(last.views_cum)} between {fmt_date(daily[0].date)} "
        f"and {fmt_date(last.date)}."
    )
    return Chart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        line=line,
        area=area,
        bars=bars,
        ticks=ticks,
        first_label=fmt_date(daily[0].date),
        last_label=fmt_date(last.date),
        summary=summary,
    )


# --- pages ------------------------------------------------------------------------------------


@cache
def _base_css() -> str:
    return (TEMPLATES / "share.css").read_text(encoding="utf-8")


def _stylesheet(brand: str | None) -> str:
    color = safe_color(brand) or DEFAULT_BRAND
    return f":root{{--brand:{color};--on-brand:{on_color(color)}}}\n{_base_css()}"


def _style_hash(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def _page(template: str, brand: str | None, **context: Any) -> Page:
    css = _stylesheet(brand)
    html = _environment().get_template(template).render(css=Markup(css), **context)  # noqa: S704 - our CSS
    return Page(html=html, csp=_CSP.format(style=_style_hash(css)))


def share_page(
    payload: SharePayload, *, pdf_href: str | None = None, for_print: bool = False
) -> Page:
    """The client view; `for_print` is the same layout as the PDF renders it (see share.html)."""
    brand = payload.client.brand_color if payload.client else None
    max_platform_views = max((p.views for p in payload.platforms), default=0)
    return _page(
        "share.html",
        brand,
        p=payload,
        chart=growth_chart(payload.daily),
        max_platform_views=max(max_platform_views, 1),
        pdf_href=pdf_href,
        for_print=for_print,
    )


# --- the PDF ----------------------------------------------------------------------------------


class _DataOnlyFetcher(weasyprint.URLFetcher):  # type: ignore[misc]
    """Refuses every URL but inline data: URIs.

    The report is rendered on the server, so anything the renderer fetched would be fetched
    from inside our network on behalf of whoever can edit a client's logo or a post's thumbnail
    (SSRF: internal addresses, metadata endpoints, file: URLs), and each fetch would hold a
    render slot for up to its timeout (a slow or dead CDN would stall every report). The print
    layout already swaps remote images for placeholders; this is the guarantee behind it."""

    def __init__(self) -> None:
        super().__init__(timeout=1, allowed_protocols=("data",), allow_redirects=False)

    def fetch(self, url: str, headers: Any = None) -> Any:
        if not url[:5].lower() == "data:":
            raise ValueError("remote resources are not fetched while rendering a report")
        return super().fetch(url, headers)


def render_pdf(html: str) -> bytes:
    """HTML to an A4 PDF (the page size and margins are the stylesheet's @page). CPU-bound:
    call it off the event loop."""
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=_DataOnlyFetcher())
    pdf: bytes = document.write_pdf()
    return pdf


def report_pdf(payload: SharePayload) -> bytes:
    """The client view, printable: the same redacted payload through the same template."""
    return render_pdf(share_page(payload, for_print=True).html)


def report_filename(campaign_name: str) -> str:
    """`<slug>-report.pdf`, ASCII letters, digits and hyphens only, safe in a header."""
    ascii_name = unicodedata.normalize("NFKD", campaign_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:MAX_SLUG].strip("-")
    return f"{slug or 'campaign'}-report.pdf"


def locked_page(token: str, *, wrong_password: bool) -> Page:
    return _page("locked.html", None, token=token, wrong_password=wrong_password)


def not_found_page() -> Page:
    """One page for every token that shows nothing: unknown, expired and revoked alike."""
    return _page("not_found.html", None)


def not_ready_page() -> Page:
    return _page("not_ready.html", None)


def too_many_page() -> Page:
    return _page("too_many.html", None)
