"""The shared report: formats, the client layout without internal figures, the staff layout with."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from pulse_report import (
    CampaignReport,
    ReportCampaign,
    ReportClient,
    ReportCounters,
    ReportCreator,
    ReportDay,
    ReportKpis,
    ReportPlatform,
    ReportPost,
    report_page,
    report_pdf,
)
from pulse_report.formats import fmt_cost, fmt_money
from pulse_report.staff import StaffBooking, StaffFigures, staff_report_page, staff_report_pdf

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
REPORT = CampaignReport(
    campaign=ReportCampaign("Glow Serum Launch", "live", date(2026, 11, 10), date(2026, 11, 30)),
    client=ReportClient("Lumière", "#C2185B", logo_src="/media/logo"),
    kpis=ReportKpis(1_000_000, None, 3, 450_000, 30_000, 2, 45.0, None, 66.67, 45.0, 6.67, 50.0),
    daily=(
        ReportDay(date(2026, 11, 10), 100_000, 100_000, 5_000, 5_000, 1),
        ReportDay(date(2026, 11, 11), 450_000, 350_000, 30_000, 25_000, 2),
    ),
    platforms=(ReportPlatform("tiktok", 450_000, 30_000),),
    creators=(
        ReportCreator(
            "Maya Styles",
            "/media/avatar",
            "macro",
            ("tiktok",),
            450_000,
            30_000,
            6.67,
            (
                ReportPost(
                    "tiktok",
                    "https://www.tiktok.com/@maya/video/1",
                    "/media/thumb",
                    NOW,
                    "My glow routine",
                    ReportCounters(450_000, 25_000, 3_000, 1_000, None, estimated=True),
                ),
            ),
        ),
    ),
    generated_at=NOW,
)
STAFF = StaffFigures(
    currency="EUR",
    budget_cents=987_654_321_09,
    spend_cents=876_543_210_98,
    cpm=1_947_873.8,
    cpe=29_218_107.03,
    bookings=(StaffBooking("Maya Styles", 876_543_210_98, 450_000, 30_000, 45.0, 1.5, 2.25),),
)
MONEY = ["987,654,321.09", "876,543,210.98", "1,947,873.80", "29,218,107.03", "Internal figures"]


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [(0, "EUR", "0.00 EUR"), (5, None, "0.05"), (123_456_789, "USD", "1,234,567.89 USD")],
)
def test_money_is_exact_cents(cents: int, currency: str | None, shown: str) -> None:
    assert fmt_money(cents, currency) == shown
    assert fmt_money(None, "EUR") == "—"
    assert fmt_cost(None, "EUR") == "—"
    assert fmt_cost(12.5, "EUR") == "12.50 EUR"


def test_the_client_layout_has_no_internal_figures_and_images_from_its_own_origin() -> None:
    page = report_page(REPORT, pdf_href="/report.pdf")
    assert "Glow Serum Launch" in page.html
    assert "450,000" in page.html
    assert not [m for m in MONEY if m in page.html]
    assert 'src="/media/thumb"' in page.html
    assert 'src="/media/avatar"' in page.html
    assert "img-src 'self';" in page.csp
    assert "<script" not in page.html.lower()


def test_the_print_layout_loads_no_image() -> None:
    assert "<img" not in report_page(REPORT, for_print=True).html


def test_the_staff_layout_adds_the_internal_figures() -> None:
    html = staff_report_page(REPORT, STAFF).html
    assert all(m in html for m in MONEY)
    assert "876,543,210.98 EUR" in html
    assert "<img" not in html  # printed: nothing remote


def test_both_pdfs_print_the_same_campaign_and_only_the_staff_one_has_money() -> None:
    def text(pdf: bytes) -> str:
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)

    client, staff = text(report_pdf(REPORT)), text(staff_report_pdf(REPORT, STAFF))
    for shown in ("Glow Serum Launch", "450,000", "45.00%", "Maya Styles"):
        assert shown in client
        assert shown in staff
    assert [m for m in MONEY if m in client] == []
    assert [m for m in MONEY if m not in staff] == []
