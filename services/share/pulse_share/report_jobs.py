"""The client's PDF as a report job: asked once per link and projection version, followed by
report.progressed, downloaded from the reporter once done. Share never renders a PDF itself.

The job carries the client view built from the redacted payload (render.client_report), so
the reporter is given no money to print: the allow-list holds at the source, and the
contract refuses a client job that carries staff figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import httpx

from pulse_contracts import Envelope, EventData, make_event
from pulse_contracts.forecast import DeliveryForecast
from pulse_contracts.reports import ReportDocument, ReportProgressed, ReportRequested
from pulse_runtime.db import Connection, SqlFiles
from pulse_runtime.outbox import add_to_outbox

from .domain import SharePayload
from .emv import ShareEmv
from .render import client_report

SCHEMA = "share"
PRODUCER = "share"
sql = SqlFiles(Path(__file__).parent / "sql")
# The client PDF's parts: everything the client view shows (it has no money section).
CLIENT_SECTIONS = ("kpis", "growth", "platforms", "creators")
RETRY_FAILED = timedelta(seconds=60)


@dataclass(frozen=True)
class ShareJob:
    id: UUID
    org_id: UUID
    attempt: int
    status: str
    progress: int
    error: str | None
    updated_at: datetime


def client_document(
    payload: SharePayload,
    forecast: DeliveryForecast | None = None,
    emv: ShareEmv | None = None,
) -> ReportDocument:
    """The client view as the job carries it: no images (the PDF fetches nothing remote); the
    delivery forecast only for a link that opted in (the caller decides)."""
    return ReportDocument.model_validate(asdict(client_report(payload, forecast=forecast, emv=emv)))


def job_request(
    job: ShareJob,
    payload: SharePayload,
    forecast: DeliveryForecast | None = None,
    emv: ShareEmv | None = None,
) -> ReportRequested:
    return ReportRequested(
        job_id=job.id,
        attempt=job.attempt,
        requested_by="share",
        audience="client",
        format="pdf",
        title=payload.campaign.name,
        sections=CLIENT_SECTIONS,
        documents=(client_document(payload, forecast, emv),),
    )


def _job(row: asyncpg.Record) -> ShareJob:
    return ShareJob(
        id=row["id"],
        org_id=row["org_id"],
        attempt=row["attempt"],
        status=row["status"],
        progress=row["progress"],
        error=row["error"],
        updated_at=row["updated_at"],
    )


async def job_for(
    pool: asyncpg.Pool,
    *,
    link_id: UUID,
    org_id: UUID,
    version: datetime,
    payload: SharePayload,
    now: datetime,
    forecast: DeliveryForecast | None = None,
    emv: ShareEmv | None = None,
) -> ShareJob:
    """This version's job: found, or asked for now. A failed one is asked again once it has
    been failed for RETRY_FAILED (the preparing page refreshes itself; a failure must not
    turn that into a render loop)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(sql.report_job_find, link_id, version)
    if row is not None and (row["status"] != "failed" or row["updated_at"] > now - RETRY_FAILED):
        return _job(row)
    async with pool.acquire() as conn, conn.transaction():
        if row is None:
            row = await conn.fetchrow(sql.report_job_insert, uuid4(), link_id, org_id, version)
            if row is None:  # another request asked for it a moment ago
                found = await conn.fetchrow(sql.report_job_find, link_id, version)
                assert found is not None
                return _job(found)
        else:
            row = await conn.fetchrow(sql.report_job_retry, row["id"])
            if row is None:
                found = await conn.fetchrow(sql.report_job_find, link_id, version)
                assert found is not None
                return _job(found)
        job = _job(row)
        await _publish(conn, job, payload, forecast, emv)
    return job


async def _publish(
    conn: Connection,
    job: ShareJob,
    payload: SharePayload,
    forecast: DeliveryForecast | None,
    emv: ShareEmv | None = None,
) -> None:
    request = job_request(job, payload, forecast, emv)
    envelope = make_event(request, org_id=job.org_id, producer=PRODUCER)
    await add_to_outbox(conn, SCHEMA, envelope)


async def on_report_progressed(pool: asyncpg.Pool, envelope: Envelope[EventData]) -> None:
    event = envelope.data
    if not isinstance(event, ReportProgressed) or event.requested_by != "share":
        return
    async with pool.acquire() as conn:
        await conn.execute(
            sql.report_job_progress,
            event.job_id,
            event.attempt,
            event.status,
            event.progress,
            event.error,
        )


async def forget_file(pool: asyncpg.Pool, job: ShareJob) -> None:
    """The reporter no longer keeps the file (its retention ended): the next ask renders again."""
    async with pool.acquire() as conn:
        await conn.execute(sql.report_job_expired, job.id)


async def fetch_file(
    http: httpx.AsyncClient, reporter_url: str, job: ShareJob
) -> httpx.Response | None:
    """The done job's PDF from the reporter, or None if it is gone (expired)."""
    found = await http.get(f"{reporter_url}/internal/orgs/{job.org_id}/reports/{job.id}/file")
    if found.status_code == 404:
        return None
    found.raise_for_status()
    return found
