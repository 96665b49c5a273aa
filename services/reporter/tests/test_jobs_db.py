"""The job claim on real PostgreSQL: a job renders once, a redelivery after the commit does
nothing, a job another replica holds is left to it, a failed render ends `failed` with its
reason and a retry renders it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from pulse_contracts import make_event, utcnow
from pulse_contracts.reports import ReportRequested
from pulse_reporter import handlers, repository
from pulse_reporter.render import RenderedFile, render_file
from tests.support.servers import Servers
from tests.support.services import settings_for

from .jobs import job

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    found = await asyncpg.create_pool(settings_for("reporter", servers).dsn, min_size=1, max_size=6)
    assert found is not None
    try:
        yield found
    finally:
        await found.close()


def config(render: Callable[..., RenderedFile] = render_file) -> handlers.RenderConfig:
    return handlers.RenderConfig(replica="test", retention_days=7, render=render)


async def events_of(pool: asyncpg.Pool, job_id: UUID) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT body FROM reporter.outbox WHERE routing_key = 'report.progressed' ORDER BY id"
    )
    found = [json.loads(r["body"])["data"] for r in rows]
    return [d for d in found if d["job_id"] == str(job_id)]


async def test_a_job_renders_once_and_a_redelivery_after_the_commit_does_nothing(
    pool: asyncpg.Pool,
) -> None:
    org_id, request = uuid4(), job(fmt="csv")
    envelope = make_event(request, org_id=org_id, producer="gateway")
    assert await handlers.render_job(pool, envelope, config())
    assert not await handlers.render_job(pool, envelope, config())  # redelivered

    events = await events_of(pool, request.job_id)
    assert [e["status"] for e in events] == ["running", "done"]
    assert events[-1]["filename"] == "summer-glow-report.csv"
    assert events[-1]["progress"] == 100
    starts = await pool.fetchval(
        "SELECT count(*) FROM reporter.render_starts WHERE job_id = $1", request.job_id
    )
    assert starts == 1
    async with pool.acquire() as conn:
        mine = await repository.get_file(conn, job_id=request.job_id, org_id=org_id, now=utcnow())
        theirs = await repository.get_file(
            conn, job_id=request.job_id, org_id=uuid4(), now=utcnow()
        )
    assert mine is not None
    assert mine.content.startswith(b"\xef\xbb\xbfcampaign,")
    assert theirs is None  # another organization never gets the file


async def test_a_job_held_by_another_replica_is_left_to_it(pool: asyncpg.Pool) -> None:
    org_id, request = uuid4(), job(fmt="csv")
    envelope = make_event(request, org_id=org_id, producer="gateway")
    async with pool.acquire() as conn:
        await repository.note_job(conn, org_id=org_id, request=request)
    async with pool.acquire() as other, other.transaction():
        assert await repository.claim_job(other, request.job_id) is not None
        assert not await asyncio.wait_for(handlers.render_job(pool, envelope, config()), 5)
    assert await events_of(pool, request.job_id) == []


async def test_a_failed_render_ends_failed_with_the_reason_and_a_retry_renders_it(
    pool: asyncpg.Pool,
) -> None:
    org_id, request = uuid4(), job(fmt="pdf")

    def broken(_: ReportRequested, __: Callable[[int], None]) -> RenderedFile:
        raise ValueError("the font cache is unreadable")

    first = make_event(request, org_id=org_id, producer="gateway")
    assert await handlers.render_job(pool, first, config(broken))
    assert not await handlers.render_job(pool, first, config())  # failed stays failed
    events = await events_of(pool, request.job_id)
    assert events[-1]["status"] == "failed"
    assert events[-1]["error"] == "ValueError: the font cache is unreadable"
    row = await pool.fetchrow(
        "SELECT status, error FROM reporter.jobs WHERE job_id = $1", request.job_id
    )
    assert row["status"] == "failed"
    assert "font cache" in row["error"]

    retry = make_event(
        request.model_copy(update={"attempt": 2, "format": "csv"}),
        org_id=org_id,
        producer="gateway",
    )
    assert await handlers.render_job(pool, retry, config())
    events = await events_of(pool, request.job_id)
    assert [(e["attempt"], e["status"]) for e in events][-2:] == [(2, "running"), (2, "done")]
    row = await pool.fetchrow(
        "SELECT status, error FROM reporter.jobs WHERE job_id = $1", request.job_id
    )
    assert row["status"] == "done"
    assert row["error"] is None


async def test_files_past_their_retention_are_swept(pool: asyncpg.Pool) -> None:
    org_id, request = uuid4(), job(fmt="csv")
    envelope = make_event(request, org_id=org_id, producer="gateway")
    assert await handlers.render_job(pool, envelope, config())
    later = utcnow().replace(year=utcnow().year + 1)
    assert await handlers.sweep_expired(pool, later) >= 1
    async with pool.acquire() as conn:
        assert (
            await repository.get_file(conn, job_id=request.job_id, org_id=org_id, now=utcnow())
            is None
        )


async def test_a_job_that_keeps_stopping_its_worker_ends_failed_with_the_reason(
    pool: asyncpg.Pool,
) -> None:
    """Each render that began is on record before it runs; a render that took its worker down
    (kill -9, out of memory) leaves its start without an end. After three of those the next
    delivery fails the job with the reason, instead of a fourth crash and, at the queue's
    delivery limit, a dead letter with the job showing "running" for ever."""
    org_id, request = uuid4(), job(fmt="pdf")
    envelope = make_event(request, org_id=org_id, producer="gateway")
    async with pool.acquire() as conn:
        await repository.note_job(conn, org_id=org_id, request=request)
        for replica in ("a", "b", "c"):  # three renders that never came back
            await repository.record_start(
                conn, job_id=request.job_id, attempt=request.attempt, replica=replica
            )

    def must_not_run(_: ReportRequested, __: Callable[[int], None]) -> RenderedFile:
        raise AssertionError("a fourth render was attempted")

    assert await handlers.render_job(pool, envelope, config(must_not_run))
    events = await events_of(pool, request.job_id)
    assert [e["status"] for e in events] == ["failed"]
    assert "stopped its worker 3 times" in events[-1]["error"]
    row = await pool.fetchrow("SELECT status FROM reporter.jobs WHERE job_id = $1", request.job_id)
    assert row["status"] == "failed"

    retry = make_event(
        request.model_copy(update={"attempt": 2, "format": "csv"}),
        org_id=org_id,
        producer="gateway",
    )
    assert await handlers.render_job(pool, retry, config())  # a retry starts a fresh count
    assert [e["status"] for e in await events_of(pool, request.job_id)][-1] == "done"
