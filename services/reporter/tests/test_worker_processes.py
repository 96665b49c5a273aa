"""The worker as real processes on real RabbitMQ and PostgreSQL: a job survives a kill -9 of
its worker mid-render and is finished once; two replicas never render the same job."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from pulse_contracts.reports import ReportRequested
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ROOT, SERVICE_TOKEN, ServiceProcess

from .jobs import job

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"


@pytest.fixture
def workers(service_env: dict[str, str]) -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for proc in started:
        proc.stop()


def start_worker(service_env: dict[str, str], started: list[ServiceProcess]) -> ServiceProcess:
    proc = ServiceProcess("reporter", service_env, LOGS)
    started.append(proc)
    proc.start()
    return proc


class Progress:
    """Every report.progressed on the exchange, as a requester's queue would receive them."""

    def __init__(self) -> None:
        self.events: list[dict[str, object]] = []

    def done_per_job(self) -> Counter[str]:
        return Counter(str(e["job_id"]) for e in self.events if e["status"] == "done")


async def watch_progress(bus: Bus, progress: Progress) -> None:
    queue = await bus.channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind("pulse.events", routing_key="report.progressed")

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            progress.events.append(json.loads(message.body)["data"])

    await queue.consume(on_message)


async def wait_until(admin_db: asyncpg.Connection, sql: str, *args: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await admin_db.fetchval(sql, *args):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout} s: {sql} {args}")
        await asyncio.sleep(0.1)


async def starts_of(admin_db: asyncpg.Connection, job_id: UUID) -> int:
    count: int = await admin_db.fetchval(
        "SELECT count(*) FROM reporter.render_starts WHERE job_id = $1", job_id
    )
    return count


async def test_a_job_survives_kill_9_mid_render_and_is_finished_once(
    servers: Servers,
    service_env: dict[str, str],
    workers: list[ServiceProcess],
    admin_db: asyncpg.Connection,
) -> None:
    org_id = uuid4()
    # Twelve creators: over ten seconds of layout on this machine, time to kill it midway.
    request = job(fmt="pdf", creators=12, posts=2)
    first = start_worker(service_env, workers)
    progress = Progress()
    async with Bus(servers.amqp_url) as bus:
        await watch_progress(bus, progress)
        await bus.publish_event(org_id, request)
        await wait_until(
            admin_db,
            "SELECT count(*) > 0 FROM reporter.render_starts WHERE job_id = $1",
            request.job_id,
            timeout=60,
        )
        status = await admin_db.fetchval(
            "SELECT status FROM reporter.jobs WHERE job_id = $1", request.job_id
        )
        assert status == "pending", "the render finished before the kill: make the job heavier"
        first.kill()
        # Nothing of the interrupted render was committed.
        assert (
            await admin_db.fetchval(
                "SELECT count(*) FROM reporter.files WHERE job_id = $1", request.job_id
            )
            == 0
        )

        second = start_worker(service_env, workers)
        await wait_until(
            admin_db,
            "SELECT status = 'done' FROM reporter.jobs WHERE job_id = $1",
            request.job_id,
            timeout=240,
        )
        await asyncio.sleep(3)  # room for a second, wrong, finish to show up
    assert await starts_of(admin_db, request.job_id) == 2  # the interrupted one, the finished one
    assert progress.done_per_job() == {str(request.job_id): 1}
    assert (
        await admin_db.fetchval(
            "SELECT count(*) FROM reporter.files WHERE job_id = $1", request.job_id
        )
        == 1
    )
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(
            f"{second.url}/internal/orgs/{org_id}/reports/{request.job_id}/file",
            headers={"X-Pulse-Service-Token": SERVICE_TOKEN},
        )
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert response.headers["content-type"] == "application/pdf"


async def test_two_replicas_never_render_the_same_job(
    servers: Servers,
    service_env: dict[str, str],
    workers: list[ServiceProcess],
    admin_db: asyncpg.Connection,
) -> None:
    org_id = uuid4()
    start_worker(service_env, workers)
    start_worker(service_env, workers)
    requests: list[ReportRequested] = [job(fmt="pdf") for _ in range(4)]
    progress = Progress()
    async with Bus(servers.amqp_url) as bus:
        await watch_progress(bus, progress)
        # Each job twice, as a requester's outbox may publish it again after a lost confirm:
        # both replicas receive copies of the same jobs at the same time.
        for request in requests:
            await bus.publish_event(org_id, request)
            await bus.publish_event(org_id, request)
        ids = [r.job_id for r in requests]
        await wait_until(
            admin_db,
            "SELECT count(*) = $2 FROM reporter.jobs WHERE job_id = ANY($1) AND status = 'done'",
            ids,
            len(ids),
            timeout=240,
        )
        await asyncio.sleep(3)
    for request in requests:
        assert await starts_of(admin_db, request.job_id) == 1
    assert progress.done_per_job() == {str(r.job_id): 1 for r in requests}
    replicas = await admin_db.fetchval(
        "SELECT count(DISTINCT replica) FROM reporter.render_starts WHERE job_id = ANY($1)",
        [r.job_id for r in requests],
    )
    assert replicas == 2  # both replicas took jobs: they competed, and still no job twice
