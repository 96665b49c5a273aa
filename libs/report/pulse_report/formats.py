"""How numbers, dates and money read in a report, the same for every audience."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
PLATFORM_NAMES = {
    "tiktok": "TikTok",
    "instagram": "Instagram",
    "youtube": "YouTube",
    "facebook": "Facebook",
    "other": "Other",
}


def fmt_number(value: int | None) -> str:
    """Counts with thousands separators; a count the platform does not expose is "n/a"."""
    return "n/a" if value is None else f"{value:,}"


def fmt_compact(value: int | float) -> str:
    """Axis labels: 1.25M, 850K (two decimals at most, so a half-way tick is not rounded
    to a value the axis does not have)."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if magnitude >= limit:
            return f"{value / limit:.2f}".rstrip("0").rstrip(".") + suffix
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


def fmt_ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, as the page is served: 'just now', '3 min ago', '5 h ago', '2 days ago'."""
    if value is None:
        return "—"
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def fmt_platform(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform.title())


def fmt_money(cents: int | None, currency: str | None) -> str:
    """Integer cents as "1,234.56 EUR", exact (no float on the way)."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}" + (f" {currency}" if currency else "")


def fmt_cost(value: float | None, currency: str | None) -> str:
    """CPM and CPE: already rounded to 2 decimals upstream (kpis.md)."""
    if value is None:
        return "—"
    return f"{value:,.2f}" + (f" {currency}" if currency else "")


def safe_color(color: str | None) -> str | None:
    return color if color is not None and _COLOR.match(color) else None


def on_color(background: str) -> str:
    """Black or white text, whichever reads better on `background` (WCAG relative luminance)."""
    channels = [int(background[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#111111" if luminance > 0.179 else "#ffffff"
