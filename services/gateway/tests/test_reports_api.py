"""Custom reports as jobs: 202 with the job, its state and progress (also over /api/stream),
the download when done, 422s that name the field, and a failed job retried."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from pypdf import PdfReader

from pulse_contracts.reports import ReportProgressed
from tests.support.reported_campaign import (
    ReportedCampaign,
    reported_campaign,
    reporting_services,
    wait_for,
)
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ServiceProcess
from tests.support.staff_api import Stream

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


async def campaign(world: ReportedCampaign) -> dict[str, Any]:
    found: dict[str, Any] = (await world.staff.get(f"/api/campaigns/{world.campaign_id}")).json()
    return found


async def until(world: ReportedCampaign, job_id: str, *statuses: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        job: dict[str, Any] = (await world.staff.get(f"/api/reports/{job_id}")).json()
        return job if job["status"] in statuses else None

    return await wait_for(reached, 240, f"report {job_id} {statuses}")


def field_of(answer: Any) -> list[str]:
    return [d["path"] for d in answer.json()["error"]["details"]]


async def test_a_custom_report_is_a_job_with_progress_on_the_stream_and_a_download(
    world: ReportedCampaign,
) -> None:
    c = await campaign(world)
    start = date.fromisoformat(c["start_date"])
    stream = Stream(world.staff)
    listening = asyncio.create_task(stream.run())
    try:
        await asyncio.wait_for(stream.ready.wait(), 20)
        asked = await world.staff.post(
            "/api/reports",
            json={
                "campaign_ids": [str(world.campaign_id)],
                "from": start.isoformat(),
                "to": (start + timedelta(days=3)).isoformat(),
                "sections": ["kpis", "growth", "creators"],
                "format": "pdf",
            },
        )
        assert asked.status_code == 202, asked.text
        job = asked.json()
        assert job["status"] == "pending"
        assert job["download_url"] is None
        assert asked.headers["location"] == f"/api/reports/{job['id']}"
        done = await until(world, job["id"], "done", "failed")
        assert done["status"] == "done", done
        assert done["progress"] == 100
        assert done["download_url"] == f"/api/reports/{job['id']}/download"
        await wait_for(
            lambda: _streamed(stream, job["id"], "done"), 20, "report.progressed on /api/stream"
        )
    finally:
        listening.cancel()
    mine = [e for _, t, e in stream.events if t == "report.progressed" and e["job_id"] == job["id"]]
    assert "running" in [e["status"] for e in mine]
    # A small notice of the job's state, never the job's whole event.
    assert {tuple(sorted(e)) for e in mine} == {("job_id", "progress", "status", "type", "version")}
    assert {e["type"] for e in mine} == {"report"}

    pdf = await world.staff.get(done["download_url"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(pdf_file(pdf.content)).pages)
    assert "Glow Serum Launch" in text
    assert "Performance against commitments" in text
    assert "Internal figures" not in text  # not asked for
    assert "Platforms" not in text  # not asked for

    listed = (await world.staff.get("/api/reports")).json()["items"]
    assert job["id"] in [j["id"] for j in listed]


async def _streamed(stream: Stream, job_id: str, status: str) -> bool | None:
    for _, event_type, event in stream.events:
        if event_type == "report.progressed" and (event["job_id"], event["status"]) == (
            job_id,
            status,
        ):
            return True
    return None


def pdf_file(content: bytes) -> io.BytesIO:
    return io.BytesIO(content)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sections": ["kpis", "gossip"]}, "body.sections.1"),
        ({"format": "docx"}, "body.format"),
        ({"campaign_ids": [str(uuid4()) for _ in range(11)]}, "body.campaign_ids"),
        ({"campaign_ids": []}, "body.campaign_ids"),
        ({"campaign_ids": ["not-a-uuid"]}, "body.campaign_ids.0"),
        ("before_start", "body.from"),
        ("after_end", "body.to"),
        ("unknown_campaign", "body.campaign_ids.0"),
    ],
)
async def test_bad_report_requests_get_a_422_naming_the_field(
    world: ReportedCampaign, change: Any, field: str
) -> None:
    c = await campaign(world)
    body: dict[str, Any] = {"campaign_ids": [str(world.campaign_id)], "format": "pdf"}
    if change == "before_start":
        body["from"] = (date.fromisoformat(c["start_date"]) - timedelta(days=1)).isoformat()
    elif change == "after_end":
        body["to"] = (date.fromisoformat(c["end_date"]) + timedelta(days=1)).isoformat()
    elif change == "unknown_campaign":
        body["campaign_ids"] = [str(uuid4())]
    else:
        body.update(change)
    answer = await world.staff.post("/api/reports", json=body)
    assert answer.status_code == 422, answer.text
    assert any(p == field or p.startswith(field) for p in field_of(answer)), answer.text
    # Another organization's campaign is as unknown as a missing one.
    theirs = await world.stranger.post(
        "/api/reports", json={"campaign_ids": [str(world.campaign_id)]}
    )
    assert theirs.status_code == 422
    assert field_of(theirs) == ["body.campaign_ids.0"]


async def test_a_failed_report_shows_the_reason_and_is_retried(
    world: ReportedCampaign, servers: Servers, procs: dict[str, ServiceProcess]
) -> None:
    asked = await world.staff.post(
        "/api/reports", json={"campaign_ids": [str(world.campaign_id)], "format": "csv"}
    )
    job_id = asked.json()["id"]
    await until(world, job_id, "done")
    early = await world.staff.post(f"/api/reports/{job_id}/retry")
    assert early.status_code == 409  # only a failed report is retried
    await announce_failure(servers, world, job_id)
    await asyncio.sleep(1)
    assert (await world.staff.get(f"/api/reports/{job_id}")).json()["status"] == "done"

    # With the worker down, the job waits in its queue; its first attempt then fails, as the
    # reporter announces a failed render.
    procs["reporter"].stop()
    try:
        asked = await world.staff.post(
            "/api/reports", json={"campaign_ids": [str(world.campaign_id)], "format": "xlsx"}
        )
        job_id = asked.json()["id"]
        await announce_failure(servers, world, job_id)
        failed = await until(world, job_id, "failed")
        assert failed["error"] == "ValueError: the font cache is unreadable"
        assert failed["download_url"] is None
        not_yet = await world.staff.get(f"/api/reports/{job_id}/download")
        assert not_yet.status_code == 409
        assert (await world.stranger.post(f"/api/reports/{job_id}/retry")).status_code == 404
        again = await world.staff.post(f"/api/reports/{job_id}/retry")
        assert again.status_code == 202, again.text
        assert again.json()["attempt"] == 2
        assert again.json()["status"] == "pending"
        assert again.json()["error"] is None
    finally:
        procs["reporter"].start()
    # The worker finds attempt 1 (whose late answer changes nothing) and attempt 2.
    done = await until(world, job_id, "done")
    assert done["attempt"] == 2
    xlsx = await world.staff.get(done["download_url"])
    assert xlsx.status_code == 200
    assert xlsx.content.startswith(b"PK")  # a zip: the workbook


async def announce_failure(servers: Servers, world: ReportedCampaign, job_id: str) -> None:
    async with Bus(servers.amqp_url) as bus:
        await bus.publish_event(
            world.org_id,
            ReportProgressed(
                job_id=UUID(job_id),
                attempt=1,
                requested_by="gateway",
                status="failed",
                progress=100,
                error="ValueError: the font cache is unreadable",
            ),
        )
