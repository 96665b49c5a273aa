"""Reports as HTML: Jinja2 templates and the Content-Security-Policy that admits exactly the
page's own stylesheet, images from its own origin (the media proxy) and nothing else."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .chart import growth_chart
from .formats import (
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
from .model import CampaignReport

if TYPE_CHECKING:
    from .staff import StaffFigures

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_BRAND = "#3949ab"
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
    html = env.get_template(template).render(css=Markup(css), **context)  # noqa: S704 - our CSS
    return Page(html=html, csp=_CSP.format(style=_style_hash(css)))


def render_report(
    report: CampaignReport,
    *,
    staff: StaffFigures | None,
    pdf_href: str | None = None,
    for_print: bool = False,
) -> Page:
    """The report layout; `staff` (internal figures) is only ever passed by staff.py."""
    brand = report.client.brand_color if report.client else None
    max_platform_views = max((p.views for p in report.platforms), default=0)
    return render_page(
        "report.html",
        brand,
        r=report,
        staff=staff,
        chart=growth_chart(report.daily),
        max_platform_views=max(max_platform_views, 1),
        pdf_href=pdf_href,
        for_print=for_print,
    )


def report_page(
    report: CampaignReport, *, pdf_href: str | None = None, for_print: bool = False
) -> Page:
    """The client report: `for_print` is the same layout as the PDF renders it."""
    return render_report(report, staff=None, pdf_href=pdf_href, for_print=for_print)
