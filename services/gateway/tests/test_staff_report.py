"""The staff PDF report: the client report's layout with the internal figures (budget, spend,
fees, CPM, CPE) exactly as the gateway's JSON shows them, which the client's PDF never has."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from pypdf import PdfReader

from pulse_report.formats import fmt_cost, fmt_money, fmt_number, fmt_pct
from tests.support.reported_campaign import (
    BUDGET,
    FEE_LEO,
    FEE_MAYA,
    ReportedCampaign,
    client_pdf,
    reported_campaign,
    reporting_services,
    staff_report_job,
    wait_for,
)
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def procs(service_env: dict[str, str]) -> Iterator[dict[str, ServiceProcess]]:
    with reporting_services(service_env) as started:
        yield started


@pytest.fixture(scope="module")
async def world(
    procs: dict[str, ServiceProcess], service_env: dict[str, str]
) -> AsyncIterator[ReportedCampaign]:
    found = await reported_campaign(procs, service_env)
    yield found
    await found.staff.aclose()
    await found.stranger.aclose()


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def money_shown(kpis: dict[str, object]) -> list[str]:
    """The internal figures as the report prints them, from the gateway's own JSON."""
    currency = kpis["currency"]
    assert isinstance(currency, str)
    spend, budget, cpm, cpe = kpis["spend_cents"], kpis["budget_cents"], kpis["cpm"], kpis["cpe"]
    assert isinstance(spend, int)
    assert isinstance(budget, int)
    assert isinstance(cpm, float)
    assert isinstance(cpe, float)
    return [
        fmt_money(spend, None),
        fmt_money(budget, None),
        fmt_money(FEE_MAYA, None),
        fmt_money(FEE_LEO, None),
        fmt_cost(cpm, None),
        fmt_cost(cpe, None),
    ]


# The organization's own EMV rates, in the campaign's currency so the report has an ROI.
RATES: dict[str, Any] = {
    "currency": "EUR",
    "tiktok": {"per_1000_views": 12.5, "per_like": 150.25, "per_comment": 0.5, "per_share": 0.3},
    "instagram": {"per_1000_views": 7.25, "per_like": 99.5},
}
# The reported campaign's posts (tests/support/reported_campaign.py): platform, latest counters.
POSTS = (
    ("tiktok", (1_234_567, 98_765, 4_321, 1_234, 567)),
    ("tiktok", (345_678, 20_001, 1_002, 303, 99)),
    ("instagram", (222_222, 13_000, 755, None, None)),
)
DEFAULT_SAVE = {"tiktok": "0.15", "instagram": "0.25"}  # pulse_contracts.emv's defaults


def oracle_emv_cents() -> int:
    """Independent: decimal strings, to the cent ROUND_HALF_UP per post, then summed."""
    total = 0
    for platform, (views, likes, comments, shares, saves) in POSTS:
        rate = {k: Decimal(str(v)) for k, v in RATES[platform].items()}
        cpe = Decimal(DEFAULT_SAVE[platform])
        amount = (
            Decimal(views) / 1000 * rate["per_1000_views"]
            + likes * rate.get("per_like", cpe)
            + comments * rate.get("per_comment", cpe)
            + (shares or 0) * rate.get("per_share", cpe)
            + (saves or 0) * rate.get("per_save", cpe)
        )
        total += int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return total


async def test_the_staff_report_shows_fees_spend_and_cpm_as_the_api_does(
    world: ReportedCampaign,
) -> None:
    cid = world.campaign_id
    rates = await world.staff.put("/api/settings/emv-rates", json=RATES)
    assert rates.status_code == 200, rates.text
    kpis = (await world.staff.get(f"/api/campaigns/{cid}")).json()["kpis"]
    assert kpis["spend_cents"] == FEE_MAYA + FEE_LEO
    assert kpis["budget_cents"] == BUDGET
    assert kpis["cpm"] is not None

    job = await staff_report_job(world.staff, f"/api/campaigns/{cid}/report")
    assert job["progress"] == 100
    assert job["format"] == "pdf"
    r = await world.staff.get(job["download_url"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == (
        'attachment; filename="glow-serum-launch-report.pdf"'
    )
    assert r.headers["cache-control"] == "private, no-store"
    assert r.content.startswith(b"%PDF-")
    text = pdf_text(r.content)
    assert "Glow Serum Launch" in text
    assert "Lumière Cosmetics" in text
    assert "Maya Styles" in text
    assert "Leo Runs" in text
    assert "Internal figures" in text
    for shown in money_shown(kpis):
        assert shown in text, shown
    assert fmt_money(kpis["spend_cents"], "EUR") in text
    # EMV (an estimate) and ROI beside the spend, at the organization's current rates.
    emv = oracle_emv_cents()
    assert (await world.staff.get(f"/api/campaigns/{cid}/emv")).json()["emv_cents"] == emv
    roi = (Decimal(emv) / (FEE_MAYA + FEE_LEO)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert roi > 0
    assert "EMV (ESTIMATE)" in text  # card titles print in capitals
    assert fmt_money(emv, "EUR") in text
    assert f"{roi}×" in text
    # And the same campaign figures as the dashboard.
    assert fmt_number(kpis["actual_views"]) in text
    assert fmt_pct(kpis["engagement_rate"]) in text

    # The client's PDF of the very same campaign has none of them.
    async with httpx.AsyncClient(base_url=world.share_url, timeout=60) as anonymous:
        client = await client_pdf(anonymous, world.share_token)
    assert client.status_code == 200
    assert client.headers["content-type"] == "application/pdf"
    client_text = pdf_text(client.content)
    assert "Glow Serum Launch" in client_text
    assert fmt_number(kpis["actual_views"]) in client_text
    assert "Internal figures" not in client_text
    leaked = [s for s in money_shown(kpis) if s in client_text]
    leaked += [s for s in money_shown(kpis) if s in client.content.decode("latin-1")]
    assert leaked == []
    # Nor an EMV (the link did not opt in) and never an ROI.
    assert fmt_money(emv, None) not in client_text
    assert "ROI" not in client_text
    assert f"{roi}×" not in client_text


async def test_another_organizations_campaign_has_no_report(world: ReportedCampaign) -> None:
    theirs = await world.stranger.post(f"/api/campaigns/{world.campaign_id}/report")
    missing = await world.staff.post(f"/api/campaigns/{uuid4()}/report")
    assert theirs.status_code == missing.status_code == 404
    assert not theirs.content.startswith(b"%PDF")
    async with httpx.AsyncClient(base_url=world.gateway_url) as anonymous:
        r = await anonymous.post(f"/api/campaigns/{world.campaign_id}/report")
    assert r.status_code == 401
    # Nor the staff's own report job, its state or its file (row-level security).
    job = await staff_report_job(world.staff, f"/api/campaigns/{world.campaign_id}/report")
    assert (await world.stranger.get(f"/api/reports/{job['id']}")).status_code == 404
    stolen = await world.stranger.get(job["download_url"])
    assert stolen.status_code == 404
    assert not stolen.content.startswith(b"%PDF")
    assert job["id"] not in (await world.stranger.get("/api/reports")).text


@pytest.mark.parametrize("which", ["staff", "client"])
async def test_many_pdf_requests_at_once_are_answered_at_once_and_rendered_by_the_worker(
    world: ReportedCampaign, which: str
) -> None:
    """No request waits for a render any more: a burst of asks is answered at once (202 and
    the job, or the "preparing" page), and the reporter renders what was asked."""
    if which == "staff":
        path = f"/api/campaigns/{world.campaign_id}/report"
        answers = await asyncio.gather(*(world.staff.post(path) for _ in range(4)))
        assert [r.status_code for r in answers] == [202] * 4
        assert len({r.json()["id"] for r in answers}) == 4  # each ask is its own job
        for r in answers:
            job = await staff_report_job_at(world, r.headers["location"])
            pdf = await world.staff.get(job["download_url"])
            assert pdf.content.startswith(b"%PDF-")
        return
    async with httpx.AsyncClient(base_url=world.share_url, timeout=30) as anonymous:
        path = f"/share/{world.share_token}/report.pdf"
        answers = await asyncio.gather(*(anonymous.get(path) for _ in range(12)))
        statuses = {r.status_code for r in answers}
        assert statuses <= {200, 202}, statuses
        pdf = await client_pdf(anonymous, world.share_token)
    assert pdf.content.startswith(b"%PDF-")


async def staff_report_job_at(world: ReportedCampaign, location: str) -> dict[str, object]:
    async def finished() -> dict[str, object] | None:
        job: dict[str, object] = (await world.staff.get(location)).json()
        assert job["status"] != "failed", job
        return job if job["status"] == "done" else None

    return await wait_for(finished, 240, f"report job {location}")
