"""The shared report: formats, the client layout without internal figures, the staff layout with."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

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
from pulse_report.chart import period_summary
from pulse_report.formats import fmt_cost, fmt_money
from pulse_report.staff import StaffBooking, StaffFigures, staff_report_page, staff_report_pdf
from tests.support.browser import ARTIFACTS
from tests.support.raster import bars, blend, count_near, dark_share, hex_rgb, rasterise

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


def test_the_staff_layout_values_the_posts_beside_the_spend_and_the_client_one_never() -> None:
    valued = replace(STAFF, emv_currency="EUR", emv_cents=1_753_086_421_96, roi=2.0)
    html = staff_report_page(REPORT, valued).html
    assert "EMV (estimate)" in html
    assert "1,753,086,421.96 EUR" in html
    assert "2.00×" in html
    # Rates in another currency than the spend: an EMV, and no ROI across currencies.
    usd = staff_report_page(REPORT, replace(valued, emv_currency="USD", roi=None)).html
    assert "1,753,086,421.96 USD" in usd
    assert "Rates in USD, spend in EUR" in usd
    assert "2.00×" not in usd
    client = report_page(REPORT).html
    assert "ROI" not in client
    assert "1,753,086,421.96" not in client


def test_both_pdfs_print_the_same_campaign_and_only_the_staff_one_has_money() -> None:
    def text(pdf: bytes) -> str:
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)

    client, staff = text(report_pdf(REPORT)), text(staff_report_pdf(REPORT, STAFF))
    for shown in ("Glow Serum Launch", "450,000", "45.00%", "Maya Styles"):
        assert shown in client
        assert shown in staff
    assert [m for m in MONEY if m in client] == []
    assert [m for m in MONEY if m not in staff] == []


# --- the PDFs as a reader sees them: pixels, not text ------------------------------------------

BRAND = "#C2185B"
# Shares of views as a client sees them: one platform dominant, one a sliver.
SPLIT = (
    ReportPlatform("youtube", 8_600, 500),
    ReportPlatform("facebook", 908_000, 40_000),
    ReportPlatform("tiktok", 83_400, 9_000),
)
DAYS = tuple(
    ReportDay(date(2026, 11, 10 + i), cum, delta, cum // 20, delta // 20, 1)
    for i, (cum, delta) in enumerate(
        ((100_000, 100_000), (400_000, 300_000), (450_000, 50_000), (1_000_000, 550_000))
    )
)


def test_platforms_are_listed_biggest_first_with_their_share_of_views() -> None:
    html = report_page(replace(REPORT, platforms=SPLIT)).html
    order = [html.index(f'data-platform="{p}"') for p in ("facebook", "tiktok", "youtube")]
    assert order == sorted(order)
    assert 'data-share="90.8"' in html
    assert 'data-share="0.86"' in html
    assert "0.86% of views" in html


def test_the_chart_has_a_tooltip_per_day_on_screen_and_none_in_print() -> None:
    report = replace(REPORT, daily=DAYS)
    # Drawn twice on screen: for a wide window and for a phone (SVG text shrinks with it).
    assert report_page(report).html.count('class="tip"') == 2 * len(DAYS)
    assert 'class="tip"' not in report_page(report, for_print=True).html


@pytest.mark.parametrize("audience", ["client", "staff"])
def test_the_pdf_draws_bars_and_chart_in_the_brand_colour_not_black(
    audience: str, tmp_path: Path
) -> None:
    report = replace(REPORT, platforms=SPLIT, daily=DAYS)
    pdf = report_pdf(report) if audience == "client" else staff_report_pdf(report, STAFF)
    pages = rasterise(pdf, keep_as=ARTIFACTS / f"report-{audience}.png")
    brand = hex_rgb(BRAND)
    # The line and the daily bars of the chart, the KPI and platform bars: all in the brand.
    assert sum(count_near(p, brand, 16) for p in pages) > 3_000
    assert sum(count_near(p, blend(brand, 0.75), 16) for p in pages) > 500  # daily bars
    assert sum(count_near(p, blend(brand, 0.12), 6) for p in pages) > 5_000  # area under the line
    assert max(dark_share(p) for p in pages) < 0.04, "a page is mostly black"
    # Each platform's bar is as long as its share of views (within a few percent).
    measured = [round(b.pct, 1) for p in pages for b in bars(p, brand)]
    for share in (90.8, 8.34, 0.86):
        assert any(abs(m - share) <= 1.5 for m in measured), (share, measured)
    # A KPI bar too: views at 45 % of the commitment.
    assert any(abs(m - 45.0) <= 1.5 for m in measured), measured


def test_a_period_narrows_the_chart_and_compares_with_the_days_before() -> None:
    days = tuple(
        ReportDay(date(2026, 11, 1) + timedelta(days=i), 1_000 * (i + 1), 1_000, 0, 0, 1)
        for i in range(20)
    )
    days = days[:-3] + tuple(replace(d, views_delta=2_000) for d in days[-3:])
    summary = period_summary(days, 7)
    assert (summary.new_views, summary.previous_views) == (10_000, 7_000)
    assert summary.change_pct == 42.9
    assert period_summary(days, 14).previous_views is None  # younger than 28 days
    html = report_page(replace(REPORT, daily=days), pdf_href="/r.pdf", period_days=7).html
    assert "Last 7 days: <strong>10,000</strong> new views, +42.9% vs the 7 days before" in html
    assert html.count('<g class="day">') == 2 * 7  # the chart shows the last 7 days only
    assert 'href="?days=14"' in html
    # Printed, and for any other number of days: the whole campaign.
    assert "Last 7 days" not in report_page(replace(REPORT, daily=days), period_days=5).html
    assert "?days=" not in report_page(replace(REPORT, daily=days), for_print=True).html
