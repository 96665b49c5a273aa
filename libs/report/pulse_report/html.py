"""Reports as HTML: Jinja2 templates and the Content-Security-Policy that admits exactly the
page's own stylesheet, images from its own origin (the media proxy) and nothing else."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .chart import NARROW, PERIODS, growth_chart, period_summary
from .formats import (
    fmt_ago,
    fmt_compact,
    fmt_cost,
    fmt_date,
    fmt_datetime,
    fmt_money,
    fmt_number,
    fmt_pct,
    fmt_platform,
    on_color,
    safe_color,
)
from .model import CampaignReport, ReportPlatform

if TYPE_CHECKING:
    from .staff import StaffFigures

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_BRAND = "#3949ab"
# The parts of a report a custom report may pick; "money" shows only where staff figures exist.
SECTIONS = ("kpis", "money", "growth", "platforms", "creators")
# Anything the page does not name here is refused by the browser: no script at all, images
# from this origin only (remote ones come through the audience's media proxy), the one inline
# stylesheet by its hash, forms posting back to this origin.
_CSP = (
    "default-src 'none'; img-src 'self'; style-src {style}; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Page:
    html: str
    csp: str


@cache
def _environment(search_path: tuple[Path, ...]) -> Environment:
    """Templates are read on first use, not at import; an audience's own pages (search_path)
    come first and may extend this library's base.html."""
    env = Environment(
        loader=FileSystemLoader([*search_path, TEMPLATES]),
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
        ago=fmt_ago,
        platform=fmt_platform,
        money=fmt_money,
        cost=fmt_cost,
    )
    return env


@cache
def _base_css() -> str:
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


def _stylesheet(brand: str | None) -> str:
    color = safe_color(brand) or DEFAULT_BRAND
    return f":root{{--brand:{color};--on-brand:{on_color(color)}}}\n{_base_css()}"


def _style_hash(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def render_page(
    template: str, brand: str | None, *, search_path: Sequence[Path] = (), **context: Any
) -> Page:
    """Any page on the report's base layout and stylesheet, with its CSP."""
    css = _stylesheet(brand)
    env = _environment(tuple(search_path))
    html = env.get_template(template).render(
        css=Markup(css),  # noqa: S704 - our CSS
        # SVG fills are attributes, not CSS: a PDF never applies the page's CSS to an SVG.
        brand_color=safe_color(brand) or DEFAULT_BRAND,
        **context,
    )
    return Page(html=html, csp=_CSP.format(style=_style_hash(css)))


@dataclass(frozen=True)
class PlatformShare:
    platform: str
    views: int
    engagement: int
    share_pct: float  # of all views: the bar's length


def platform_shares(platforms: Sequence[ReportPlatform]) -> list[PlatformShare]:
    """Biggest first, each bar as long as its share of all views (0.86 % draws as a sliver)."""
    total = sum(max(p.views, 0) for p in platforms)
    return [
        PlatformShare(
            platform=p.platform,
            views=p.views,
            engagement=p.engagement,
            share_pct=round(100 * max(p.views, 0) / total, 2) if total else 0.0,
        )
        for p in sorted(platforms, key=lambda p: (-p.views, p.platform))
    ]


def render_report(
    report: CampaignReport,
    *,
    staff: StaffFigures | None,
    pdf_href: str | None = None,
    for_print: bool = False,
    period_days: int | None = None,
    sections: Collection[str] = SECTIONS,
) -> Page:
    """The report layout; `staff` (internal figures) is only ever passed by staff.py.
    `sections` (of SECTIONS) are the parts a custom report asked for; the header always shows.
    `period_days` (one of PERIODS) narrows the chart to the last days, with a summary against
    the days before; the printed report always shows the whole campaign."""
    brand = report.client.brand_color if report.client else None
    period = period_days if period_days in PERIODS and not for_print else None
    daily = report.daily[-period:] if period else report.daily
    return render_page(
        "report.html",
        brand,
        r=report,
        staff=staff,
        chart=growth_chart(daily),
        # SVG text shrinks with its drawing: a phone gets the chart drawn for its width.
        narrow_chart=None if for_print else growth_chart(daily, width=NARROW),
        period=period_summary(report.daily, period) if period else None,
        periods=PERIODS,
        # Links to ?days=N only where a server answers them: the live client view.
        period_links=pdf_href is not None and not for_print,
        platforms=platform_shares(report.platforms),
        pdf_href=pdf_href,
        for_print=for_print,
        sections=frozenset(sections),
    )


def report_page(
    report: CampaignReport,
    *,
    pdf_href: str | None = None,
    for_print: bool = False,
    period_days: int | None = None,
    sections: Collection[str] = SECTIONS,
) -> Page:
    """The client report: `for_print` is the same layout as the PDF renders it."""
    return render_report(
        report,
        staff=None,
        pdf_href=pdf_href,
        for_print=for_print,
        period_days=period_days,
        sections=sections,
    )
