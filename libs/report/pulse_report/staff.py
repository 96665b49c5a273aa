"""The internal figures only the agency's own report shows: budget, spend, fees, CPM, CPE, and
the earned media value (an estimate) with its ROI.

Kept apart from the neutral view model on purpose: the client report (share) never imports
this module, so no code path there can even construct money to hand to the renderer.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from .html import SECTIONS, Page, render_report
from .model import CampaignReport
from .pdf import render_pdf


@dataclass(frozen=True, slots=True)
class StaffBooking:
    """One booking's cost against what it delivered."""

    creator: str
    fee_cents: int
    actual_views: int
    actual_engagement: int
    kpi_pct: float | None
    cpm: float | None
    cpe: float | None


@dataclass(frozen=True, slots=True)
class StaffFigures:
    """Money is integer cents plus the campaign's currency; cpm and cpe are in that currency."""

    currency: str | None
    budget_cents: int | None
    spend_cents: int
    cpm: float | None
    cpe: float | None
    bookings: tuple[StaffBooking, ...]
    # Earned media value at the organization's rates, in the rates' currency (which may not be
    # the campaign's); ROI = EMV ÷ spend, None across currencies or without a spend.
    emv_currency: str | None = None
    emv_cents: int | None = None
    roi: float | None = None


def staff_report_page(
    report: CampaignReport, staff: StaffFigures, *, sections: Collection[str] = SECTIONS
) -> Page:
    """The agency's report as printed: the client layout plus the internal figures."""
    return render_report(report, staff=staff, for_print=True, sections=sections)


def staff_report_pdf(report: CampaignReport, staff: StaffFigures) -> bytes:
    """CPU-bound: the reporter calls it in its render worker, off the event loop."""
    return render_pdf(staff_report_page(report, staff).html)
