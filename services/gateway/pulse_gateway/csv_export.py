"""CSV export of a campaign's numbers: one row per tracked post, then the totals (pure, no I/O)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Final
from uuid import UUID

from pulse_contracts.emv import CampaignEmv
from pulse_contracts.numbers import BookingNumbers, CampaignNumbers, PostNumbers

from .csv_reading import COUNTERS, iso

_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")

_POST_COLUMNS: Final = (
    "campaign",
    "influencer",
    "platform",
    "post_url",
    "posted_at",
    "observed_at",
    *COUNTERS,
    "engagement",
    "estimated",
)
# EMV is money (and its currency is the organization's rates', not the campaign's), so it is
# written only beside the fees; "estimate" in its name because it is never a measured figure.
_MONEY_COLUMNS: Final = (
    "currency",
    "booking_fee",
    "booking_kpi_pct",
    "emv_currency",
    "emv_estimate",
)


def export_campaign_csv(
    doc: CampaignNumbers,
    *,
    influencer_names: Mapping[UUID, str],
    include_money: bool = True,
    emv: CampaignEmv | None = None,
) -> Iterator[str]:
    """Yield the campaign's CSV record by record: one row per tracked post, then the totals.

    Each string is one CSV record with its "\\r\\n" terminator (a quoted cell may hold a
    newline); the totals follow one blank line. Counters the platform does not expose are
    "n/a". Without include_money no fee, currency, booking KPI, spend, cpm, cpe, EMV or ROI is
    written. `emv` is the document's earned media value (empty cells without it, as before the
    first numbers; a post with no sample yet has none).
    """
    return _export(doc, influencer_names, include_money, emv)


def _export(
    doc: CampaignNumbers,
    influencer_names: Mapping[UUID, str],
    include_money: bool,
    emv: CampaignEmv | None,
) -> Iterator[str]:
    campaign = doc.campaign
    post_emv = {p.post_id: p.emv_cents for p in emv.posts} if emv is not None else {}
    emv_currency = emv.currency if emv is not None else ""
    bookings = {booking.booking_id: booking for booking in doc.bookings}
    currency = campaign.currency or ""
    yield _record([*_POST_COLUMNS, *(_MONEY_COLUMNS if include_money else ())])
    for post in doc.posts:
        booking = bookings.get(post.booking_id)
        cells = _post_cells(campaign.name or "", post, booking, influencer_names)
        if include_money:
            cells += [
                currency,
                _money(booking.fee_cents) if booking is not None else "",
                _number(booking.kpi_pct) if booking is not None else "",
                emv_currency,
                _optional_money(post_emv.get(post.post_id)),
            ]
        yield _record(cells)

    yield "\r\n"
    totals: list[tuple[str, str]] = [
        ("campaign", campaign.name or ""),
        ("as_of", iso(doc.as_of)),
        ("actual_views", str(campaign.actual_views)),
        ("actual_engagement", str(campaign.actual_engagement)),
        ("actual_posts", str(campaign.actual_posts)),
        ("committed_views", _number(campaign.committed_views)),
        ("committed_engagement", _number(campaign.committed_engagement)),
        ("committed_posts", _number(campaign.committed_posts)),
        ("views_pct", _number(campaign.views_pct)),
        ("engagement_pct", _number(campaign.engagement_pct)),
        ("posts_pct", _number(campaign.posts_pct)),
        ("kpi_pct", _number(campaign.kpi_pct)),
        ("engagement_rate", _number(campaign.engagement_rate)),
    ]
    if include_money:
        totals += [
            ("currency", currency),
            ("spend", _money(campaign.spend_cents)),
            ("cpm", _number(campaign.cpm)),
            ("cpe", _number(campaign.cpe)),
            ("emv_currency", emv_currency),
            ("emv_estimate", _money(emv.emv_cents) if emv is not None else ""),
            ("roi", _number(emv.roi) if emv is not None else ""),
        ]
    yield _record(["totals", "value"])
    for name, value in totals:
        yield _record([name, value])


def _post_cells(
    campaign_name: str,
    post: PostNumbers,
    booking: BookingNumbers | None,
    influencer_names: Mapping[UUID, str],
) -> list[str]:
    influencer_id = post.influencer_id or (booking.influencer_id if booking else None)
    name = influencer_names.get(influencer_id, "") if influencer_id is not None else ""
    latest = post.latest
    if latest is None:
        # Not yet observed: every counter is unknown, which is not the same as 0.
        measured = ["", *(_number(None) for _ in COUNTERS), _number(None), ""]
    else:
        measured = [
            iso(latest.observed_at),
            *(_number(getattr(latest, counter)) for counter in COUNTERS),
            str(latest.engagement),
            "yes" if latest.estimated else "no",
        ]
    return [
        campaign_name,
        name,
        post.platform,
        post.url or "",
        iso(post.posted_at) if post.posted_at is not None else "",
        *measured,
    ]


def _record(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_neutralise(cell) for cell in cells])
    return buffer.getvalue()


def _neutralise(cell: str) -> str:
    # Names, captions and URLs come from outside; a leading "=", "+", "-", "@", tab or CR
    # would make a spreadsheet evaluate the cell as a formula (CSV injection).
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _number(value: int | float | None) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _optional_money(cents: int | None) -> str:
    return "" if cents is None else _money(cents)


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"
