"""reporter's use cases: render a requested job exactly once, sweep expired files.

A job is claimed by locking its row (SELECT … FOR NO KEY UPDATE SKIP LOCKED: exclusive among
claimers, yet render_starts may still reference the row) in a transaction held for the whole
render; the file, the job's end and its report.progressed event commit in that
same transaction, and only then is the message acknowledged. So:
- two replicas never render one job: the second finds the row locked and lets its copy go;
- a replica killed mid-render loses its lock with its connection, nothing of the render was
  committed, and the unacknowledged message comes back to a replica that renders it again;
- a message redelivered after the commit finds the job finished and is acknowledged as is;
- a job whose render took its worker down MAX_CRASHED_RENDERS times (out of memory, say) ends
  `failed` with that reason on the next delivery, before the queue's delivery limit would
  dead-letter it and leave it showing "running" for good.
Progress on the way (running, n of m documents laid out) commits on a second connection, so the
requester sees it while the render runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from pulse_contracts import Envelope, EventData, make_event, utcnow
from pulse_contracts.reports import JobStatus, ReportProgressed, ReportRequested
from pulse_runtime.db import Connection
from pulse_runtime.logging import get_logger
from pulse_runtime.outbox import add_to_outbox

from . import domain, repository
from .render import RenderedFile, render_file

log = get_logger(__name__)
PRODUCER = "reporter"
MAX_ERROR_CHARS = 500
# Renders of one attempt that began and never ended: each took its worker down. Below the
# queue's delivery limit (5), so the job is failed with a reason rather than dead-lettered.
MAX_CRASHED_RENDERS = 3
CRASHED = (
    "the render stopped its worker {n} times (out of memory or killed); "
    "retry with fewer campaigns or sections"
)
Clock = Callable[[], datetime]
Renderer = Callable[[ReportRequested, Callable[[int], None]], RenderedFile]


@dataclass(frozen=True)
class RenderConfig:
    replica: str
    retention_days: float
    render: Renderer = render_file


async def render_job(
    pool: asyncpg.Pool,
    envelope: Envelope[EventData],
    config: RenderConfig,
    now: Clock = utcnow,
) -> bool:
    """Render the job unless it is finished or another replica holds it; True if it ran."""
    request = envelope.data
    assert isinstance(request, ReportRequested)
    async with pool.acquire() as conn:
        await repository.note_job(conn, org_id=envelope.org_id, request=request)
    async with pool.acquire() as conn, conn.transaction():
        job = await repository.claim_job(conn, request.job_id)
        if job is None:
            log.info("report job held by another replica", job_id=str(request.job_id))
            return False
        if job.org_id != envelope.org_id or request.attempt < job.attempt:
            log.warning("stale or foreign report request ignored", job_id=str(request.job_id))
            return False
        if request.attempt == job.attempt and job.status in ("done", "failed"):
            return False  # finished already: a redelivery after the commit
        if request.attempt > job.attempt:
            await repository.restart_job(conn, request=request)
        crashed = await repository.count_starts(
            conn, job_id=request.job_id, attempt=request.attempt
        )
        if crashed >= MAX_CRASHED_RENDERS:
            error = CRASHED.format(n=crashed)
            log.error("report render keeps stopping its worker", job_id=str(request.job_id))
            await repository.fail_job(conn, job_id=request.job_id, error=error, now=now())
            await _publish(conn, envelope, request, "failed", 100, error=error)
            return True
        await _running(pool, envelope, request, config.replica)
        try:
            rendered = await _render(pool, envelope, request, config.render)
        except Exception as exc:
            # A render that fails fails the same way every time: the job ends `failed` with the
            # reason (the requester can retry it), rather than cycling through redeliveries.
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
            log.exception("report render failed", job_id=str(request.job_id))
            at = now()
            await repository.fail_job(conn, job_id=request.job_id, error=error, now=at)
            await _publish(conn, envelope, request, "failed", 100, error=error)
            return True
        at = now()
        expires = domain.expires_at(at, config.retention_days)
        await repository.finish_job(
            conn,
            job_id=request.job_id,
            org_id=envelope.org_id,
            filename=rendered.filename,
            media_type=rendered.media_type,
            content=rendered.content,
            now=at,
            expires_at=expires,
        )
        await _publish(
            conn,
            envelope,
            request,
            "done",
            100,
            filename=rendered.filename,
            media_type=rendered.media_type,
            size_bytes=len(rendered.content),
            expires_at=expires,
        )
    return True


async def _running(
    pool: asyncpg.Pool, envelope: Envelope[EventData], request: ReportRequested, replica: str
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await repository.record_start(
            conn, job_id=request.job_id, attempt=request.attempt, replica=replica
        )
        await _publish(conn, envelope, request, "running", domain.PROGRESS_CLAIMED)


async def _render(
    pool: asyncpg.Pool,
    envelope: Envelope[EventData],
    request: ReportRequested,
    render: Renderer,
) -> RenderedFile:
    """The render in a worker thread (the event loop keeps the broker's heartbeats going);
    its progress reports are written as they come and all committed before the result."""
    loop = asyncio.get_running_loop()
    reports: list[asyncio.Future[None]] = []

    async def write(pct: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await _publish(conn, envelope, request, "running", pct)

    def progress(pct: int) -> None:  # called in the render's thread
        loop.call_soon_threadsafe(lambda: reports.append(asyncio.ensure_future(write(pct))))

    try:
        return await asyncio.to_thread(render, request, progress)
    finally:
        await asyncio.gather(*reports, return_exceptions=True)


async def _publish(
    conn: Connection,
    envelope: Envelope[EventData],
    request: ReportRequested,
    status: JobStatus,
    progress: int,
    **details: object,
) -> None:
    data = ReportProgressed.model_validate(
        {
            "job_id": request.job_id,
            "attempt": request.attempt,
            "requested_by": request.requested_by,
            "status": status,
            "progress": progress,
            **details,
        }
    )
    event = make_event(
        data,
        org_id=envelope.org_id,
        producer=PRODUCER,
        correlation_id=envelope.correlation_id,
    )
    await add_to_outbox(conn, repository.SCHEMA, event)


async def sweep_expired(pool: asyncpg.Pool, now: datetime) -> int:
    """Files past their retention period are deleted; their jobs stay, downloads answer 404."""
    async with pool.acquire() as conn:
        return await repository.delete_expired(conn, now=now)
