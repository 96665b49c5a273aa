"""A weekly client report for one campaign, mailed through an SMTP sink: sent once per period
with two reporter replicas and across a restart of both, as the client view (no money), with
the share link; its delivery log says what went when to whom. Bad recipients get a 422."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from pulse_report.formats import fmt_money
from pulse_reporter import domain
from tests.support.reported_campaign import (
    BUDGET,
    FEE_LEO,
    FEE_MAYA,
    ReportedCampaign,
    reported_campaign,
    reporting_services,
)
from tests.support.services import ROOT, ServiceProcess, free_port

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"


class Sink:
    """aiosmtpd handler keeping every message it accepts (the dev SMTP sink of the tests)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def procs(
    service_env: dict[str, str], smtp: tuple[Sink, int]
) -> Iterator[dict[str, ServiceProcess]]:
    env = {
        **service_env,
        "PULSE_REPORTER_SMTP_URL": f"smtp://127.0.0.1:{smtp[1]}",
        "PULSE_REPORTER_SCHEDULE_POLL_S": "0.3",
    }
    with reporting_services(env) as started:
        second = ServiceProcess("reporter", started["reporter"].env, LOGS)
        second.start()
        started["reporter-2"] = second
        yield started


@pytest.fixture(scope="module")
async def world(
    procs: dict[str, ServiceProcess], service_env: dict[str, str]
) -> AsyncIterator[ReportedCampaign]:
    found = await reported_campaign(procs, service_env)
    yield found
    await found.staff.aclose()
    await found.stranger.aclose()


def test_periods_are_iso_weeks_and_months_and_a_missed_one_is_not_a_backlog() -> None:
    monday = datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert domain.period_of("weekly", monday) == "2026-W49"
    assert domain.period_of("monthly", monday) == "2026-11"
    assert domain.first_due("weekly", monday) == datetime(2026, 12, 7, 8, tzinfo=UTC)
    assert domain.first_due("monthly", monday) == datetime(2026, 12, 1, 8, tzinfo=UTC)
    later = monday + timedelta(days=30)  # a month of nothing running
    assert domain.next_due("weekly", monday, later) == datetime(2027, 1, 4, 8, tzinfo=UTC)
    # A monthly report falls on the same day, at most the 28th (every month has one).
    assert domain.next_due("monthly", monday, monday) == datetime(2026, 12, 28, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cadence": "weekly", "recipients": ["not-an-email"]}, "body.recipients.0"),
        ({"cadence": "weekly", "recipients": ["a@client.example", "b@"]}, "body.recipients.1"),
        ({"cadence": "daily", "recipients": ["a@client.example"]}, "body.cadence"),
        ({"cadence": "weekly", "recipients": []}, "body.recipients"),
    ],
)
async def test_a_schedule_with_bad_input_gets_a_422_naming_the_field(
    world: ReportedCampaign, body: dict[str, Any], field: str
) -> None:
    answer = await world.staff.put(f"/api/campaigns/{world.campaign_id}/report-schedule", json=body)
    assert answer.status_code == 422, answer.text
    paths = [d["path"] for d in answer.json()["error"]["details"]]
    assert any(p.startswith(field) for p in paths), paths


async def test_a_weekly_client_report_is_mailed_once_per_period_across_replicas_and_restarts(
    world: ReportedCampaign, procs: dict[str, ServiceProcess], smtp: tuple[Sink, int]
) -> None:
    sink = smtp[0]
    path = f"/api/campaigns/{world.campaign_id}/report-schedule"
    recipients = ["marketing@lumiere.example", "Brand.Lead@lumiere.example"]
    saved = await world.staff.put(
        path, json={"cadence": "weekly", "recipients": recipients, "send_now": True}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["recipients"] == [r.lower() for r in recipients]
    assert (await world.stranger.get(path)).status_code == 404

    await until(lambda: len(sink.messages) >= 1, 240, "the scheduled mail")
    await asyncio.sleep(3)  # two replicas poll every 0.3 s: room for a second mail to show
    assert len(sink.messages) == 1
    for name in ("reporter", "reporter-2"):  # a restart of both
        procs[name].stop()
    for name in ("reporter", "reporter-2"):
        procs[name].start()
    await asyncio.sleep(5)
    assert len(sink.messages) == 1

    (mail,) = sink.messages
    assert mail["To"] == ", ".join(r.lower() for r in recipients)
    # The delivery's own Message-ID: a repeat after a lost lease would be the same message.
    assert mail["Message-ID"].strip().startswith("<report.")
    text, pdf, filename = "", b"", None
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()
        if part.get_content_type() == "application/pdf":
            pdf, filename = part.get_payload(decode=True), part.get_filename()
    assert filename == "glow-serum-launch-report.pdf"
    share_url = next(w for w in text.split() if "/share/" in w)
    async with httpx.AsyncClient(timeout=30) as anonymous:
        page = await anonymous.get(share_url)
    assert page.status_code == 200
    assert "Glow Serum Launch" in page.text

    # The client view: the campaign's numbers, never its money.
    assert pdf.startswith(b"%PDF-")
    printed = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Glow Serum Launch" in printed
    assert "Internal figures" not in printed
    money = [fmt_money(c, None) for c in (FEE_MAYA, FEE_LEO, FEE_MAYA + FEE_LEO, BUDGET)]
    assert [m for m in money if m in printed or m in pdf.decode("latin-1")] == []

    log = (await world.staff.get(path)).json()
    (delivery,) = log["deliveries"]
    assert delivery["status"] == "sent"
    assert delivery["recipients"] == [r.lower() for r in recipients]
    assert delivery["sent_at"] is not None
    # The log names the link (staff find and revoke it under Share links), never its token.
    assert "share_url" not in delivery
    assert share_url.rsplit("/", 1)[-1] not in json.dumps(log)
    listed = (await world.staff.get(f"/api/campaigns/{world.campaign_id}/share-links")).json()
    assert delivery["share_link_id"] in [link["id"] for link in listed["items"]]
    assert delivery["period"] == domain.period_of("weekly", datetime.now(UTC))
    next_due = datetime.fromisoformat(log["schedule"]["next_due_at"])
    assert next_due > datetime.now(UTC) + timedelta(days=6)


async def until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.2)
