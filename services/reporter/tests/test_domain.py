"""A job's pages, rows and names, without I/O: money only where a staff job carries it."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError

from pulse_contracts.reports import ReportRequested
from pulse_reporter import domain
from pulse_reporter.render import render_file

from .jobs import EMV_CENTS, FEE_CENTS, ROI, document, job

FEE_TEXT = f"{FEE_CENTS // 100:,}"


def test_a_client_job_carrying_staff_figures_is_refused_at_the_wire() -> None:
    staff_job = job(staff=True)
    with pytest.raises(ValidationError, match="must not carry staff figures"):
        ReportRequested.model_validate({**staff_job.model_dump(), "audience": "client"})


def test_the_staff_page_shows_fees_and_the_client_page_cannot() -> None:
    staff_html = domain.page_htmls(job(staff=True))[0]
    client_html = domain.page_htmls(job())[0]
    assert FEE_TEXT in staff_html
    assert FEE_TEXT not in client_html
    assert "Internal figures" not in client_html
    # EMV (an estimate) and ROI beside the spend, for the agency only.
    emv_text = f"{EMV_CENTS // 100:,}.{EMV_CENTS % 100:02d} EUR"
    assert "EMV (estimate)" in staff_html
    assert emv_text in staff_html
    assert f"{ROI:.2f}×" in staff_html
    assert emv_text not in client_html
    assert "ROI" not in client_html


def test_sections_leave_out_what_was_not_asked_for() -> None:
    only_kpis = job().model_copy(update={"sections": ("kpis",)})
    html = domain.page_htmls(only_kpis)[0]
    assert "Performance against commitments" in html
    assert "Daily growth" not in html
    assert "Creators" not in html


def test_one_page_per_campaign_of_a_custom_report() -> None:
    assert len(domain.page_htmls(job(documents=3))) == 3


def test_the_csv_has_a_row_per_post_and_keeps_formulas_as_text() -> None:
    request = job(fmt="csv", creators=2, posts=3)
    rendered = render_file(request, lambda _: None)
    assert rendered.filename == "summer-glow-report.csv"
    rows = list(csv.reader(io.StringIO(rendered.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == domain.POST_COLUMNS
    assert len(rows) == 1 + 2 * 3
    assert all(not row[5].startswith("=") for row in rows[1:])


def test_the_xlsx_summary_has_money_for_staff_only() -> None:
    staff = load_workbook(io.BytesIO(render_file(job(fmt="xlsx", staff=True), print).content))
    client = load_workbook(io.BytesIO(render_file(job(fmt="xlsx"), print).content))
    assert staff.sheetnames == client.sheetnames == ["Summary", "Posts"]
    staff_header = [c.value for c in next(staff["Summary"].iter_rows(max_row=1))]
    client_header = [c.value for c in next(client["Summary"].iter_rows(max_row=1))]
    assert "spend" in staff_header
    assert "spend" not in client_header
    spend = [c.value for c in list(staff["Summary"].iter_rows())[1]][staff_header.index("spend")]
    assert spend == f"{FEE_CENTS // 100}.{FEE_CENTS % 100:02d}"
    summary = [c.value for c in list(staff["Summary"].iter_rows())[1]]
    assert (
        summary[staff_header.index("emv_estimate")] == f"{EMV_CENTS // 100}.{EMV_CENTS % 100:02d}"
    )
    assert summary[staff_header.index("emv_currency")] == "EUR"
    assert summary[staff_header.index("roi")] == ROI
    assert not {"emv_estimate", "emv_currency", "roi"} & set(client_header)


def test_progress_climbs_from_claimed_to_rendered() -> None:
    steps = [domain.document_progress(n, 4) for n in range(5)]
    assert steps == sorted(steps)
    assert steps[0] == domain.PROGRESS_CLAIMED
    assert steps[-1] == domain.PROGRESS_RENDERED


def test_documents_copy_every_field_of_the_view_model() -> None:
    doc = document(creators=1, posts=1)
    report = domain.campaign_report(doc)
    assert report.creators[0].posts[0].counters is not None
    assert report.kpis.kpi_pct == doc.kpis.kpi_pct
    assert report.daily[-1].views_cum == doc.daily[-1].views_cum
