"""Run use cases: n8n opens a run, its items count toward it, it completes the run with each
post's outcome; Pulse's own pull batches are recorded as finished runs; runs nobody completed
in time fail as `timed_out`.

A post's failure reported by the workflow counts as that post's pull failure, exactly as one of
Pulse's own calls would (its pull status, post.pull_failed for the alerter's stale-data and
pull-failure rules), so an agency pulling through n8n gets the same warnings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol
from uuid import UUID, uuid4

import asyncpg

from pulse_contracts import make_event
from pulse_contracts.posts import PostPullFailed
from pulse_runtime.db import Connection, PoolGetter
from pulse_runtime.logging import get_logger
from pulse_runtime.outbox import add_to_outbox

from . import repository
from . import runs_repository as rr
from .domain import Rejection
from .run_rules import (
    OPEN_STATUSES,
    PROVIDER_CODES,
    Completion,
    Named,
    OpenRun,
    lookup_keys,
    name_posts,
    settle,
)
from .runs_repository import RunItem
from .scheduler import DELETED_GIVE_UP

log = get_logger(__name__)

PRODUCER: Final = "ingest"
PROVIDER: Final = "scrapecreators"
NOT_FOUND: Final = "not_found"
DEFAULT_TIMEOUT: Final = timedelta(hours=2)
RUN_FIELDS: Final = (
    "id",
    "source",
    "status",
    "reason",
    "name",
    "execution_id",
    "started_at",
    "ended_at",
    "posts_ok",
    "posts_failed",
    "accepted",
    "duplicates",
    "rejected",
    "provider_errors",
)


class RunNotFound(LookupError):
    """No such run in the organization (another organization's run is not found either)."""


@dataclass(frozen=True)
class PulledPost:
    """One post of one of Pulse's own pull batches, as recorded in its run."""

    post_id: UUID
    platform: str
    url: str
    ok: bool
    code: str | None
    message: str | None
    http_status: int | None
    tries: int


def summary(row: asyncpg.Record) -> dict[str, Any]:
    """A run as the API shows it; `run_id` is its id."""
    run = {name: row[name] for name in RUN_FIELDS}
    run["run_id"] = run.pop("id")
    return run


async def open_run(pool: asyncpg.Pool, *, org_id: UUID, body: OpenRun, now: datetime) -> UUID:
    async with pool.acquire() as conn:
        row = await rr.open_run(
            conn,
            run_id=uuid4(),
            org_id=org_id,
            source=body.source,
            name=body.workflow,
            execution_id=body.execution_id,
            at=now,
        )
    run_id: UUID = row["id"]
    return run_id


async def count_items(
    conn: Connection,
    *,
    run_id: UUID,
    org_id: UUID,
    accepted: int,
    duplicates: int,
    rejections: Sequence[Rejection],
    at: datetime,
) -> None:
    """Items that arrived carrying `run_id`, in the caller's transaction: counted, and each
    refused one listed in the run. Items naming a run that is not the organization's are
    stored all the same; only the run is not told."""
    provider_errors = sum(1 for r in rejections if r.code in PROVIDER_CODES)
    found = await rr.count_items(
        conn,
        run_id=run_id,
        org_id=org_id,
        accepted=accepted,
        duplicates=duplicates,
        rejected=len(rejections) - provider_errors,
        provider_errors=provider_errors,
    )
    if not found:
        log.info("items name an unknown run", run_id=str(run_id), org_id=str(org_id))
        return
    await rr.insert_items(
        conn,
        run_id=run_id,
        kind="item",
        items=[
            RunItem(status="rejected", item_index=r.index, code=r.code, message=r.message)
            for r in rejections
        ],
        at=at,
    )


class Counted(Protocol):
    """What ingest answered for a batch of items (handlers.IngestResult)."""

    @property
    def accepted(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def rejected(self) -> list[Rejection]: ...


async def count_result(
    conn: Connection, *, run_id: UUID | None, org_id: UUID, result: Counted, at: datetime
) -> None:
    """`count_items` for a batch's answer, when the batch names a run."""
    if run_id is not None:
        await count_items(
            conn,
            run_id=run_id,
            org_id=org_id,
            accepted=result.accepted,
            duplicates=result.duplicates,
            rejections=result.rejected,
            at=at,
        )


async def complete_run(
    pool: asyncpg.Pool, *, org_id: UUID, run_id: UUID, body: Completion, now: datetime
) -> dict[str, Any]:
    """Settle the run from the workflow's outcomes. Idempotent: a run already completed (or
    timed out) is answered as it is, and nothing changes."""
    async with pool.acquire() as conn, conn.transaction():
        status = await rr.lock_run(conn, run_id, org_id)
        if status is None:
            raise RunNotFound(run_id)
        if status not in OPEN_STATUSES:
            row = await rr.get_run(conn, run_id, org_id)
            assert row is not None
            return {**summary(row), "completed_now": False, "rejected_outcomes": []}
        ids, urls, ppids = lookup_keys(body.outcomes)
        posts = (
            await rr.outcome_posts(conn, org_id=org_id, ids=ids, urls=urls, ppids=ppids)
            if ids or urls
            else []
        )
        named = name_posts(body.outcomes, posts)
        for n in named:
            await _record_pull_state(conn, org_id, n, now)
        await rr.insert_items(conn, run_id=run_id, kind="outcome", items=_items(named), at=now)
        counts = await rr.get_run(conn, run_id, org_id)
        assert counts is not None
        posts_ok = sum(1 for n in named if n.post and n.outcome.status == "ok")
        posts_failed = sum(1 for n in named if n.post and n.outcome.status == "failed")
        settled, reason = settle(
            posts_ok=posts_ok,
            posts_failed=posts_failed,
            accepted=counts["accepted"],
            duplicates=counts["duplicates"],
            failed_items=counts["rejected"] + counts["provider_errors"],
        )
        await rr.finish_run(
            conn,
            run_id=run_id,
            org_id=org_id,
            status=settled,
            reason=reason,
            execution_id=body.execution_id,
            posts_ok=posts_ok,
            posts_failed=posts_failed,
            at=now,
            name=body.workflow,
        )
        row = await rr.get_run(conn, run_id, org_id)
        assert row is not None
    rejected = [
        {"index": n.index, "code": n.code, "message": n.message} for n in named if n.post is None
    ]
    return {**summary(row), "completed_now": True, "rejected_outcomes": rejected}


async def _record_pull_state(conn: Connection, org_id: UUID, n: Named, now: datetime) -> None:
    post = n.post
    if post is None or post.removed:
        return
    if n.outcome.status == "ok":
        await repository.record_success(conn, post.id, now)
        return
    code = n.outcome.code or "provider_error"
    message = n.outcome.message or code
    state = await repository.record_failure(
        conn,
        post.id,
        at=now,
        error_code=code,
        error=message,
        not_found=code == NOT_FOUND,
        give_up_after=DELETED_GIVE_UP,
    )
    if state is None:
        return
    event = make_event(
        PostPullFailed(
            post_id=post.id,
            booking_id=post.booking_id,
            campaign_id=post.campaign_id,
            provider=PROVIDER,
            error_code=code[:200],
            message=f"n8n: {message}"[:5000],
            consecutive_failures=max(1, state["consecutive_failures"]),
        ),
        org_id=org_id,
        producer=PRODUCER,
        occurred_at=now,
    )
    await add_to_outbox(conn, repository.SCHEMA, event)


def _items(named: list[Named]) -> list[RunItem]:
    return [
        RunItem(
            status=n.outcome.status if n.post else "rejected",
            post_id=n.post.id if n.post else None,
            platform=n.outcome.platform,
            url=n.outcome.url,
            item_index=n.index,
            code=n.code or n.outcome.code,
            message=n.message or n.outcome.message,
            http_status=n.outcome.http_status,
            tries=n.outcome.tries,
        )
        for n in named
    ]


async def record_pulls(
    conn: Connection,
    *,
    run_id: UUID,
    org_id: UUID,
    reason: str,
    started_at: datetime,
    ended_at: datetime,
    pulled: Sequence[PulledPost],
    accepted: int,
    duplicates: int,
    rejections: Sequence[Rejection],
) -> None:
    """One batch of Pulse's own pulls as a finished run (`source: scheduler`), in the caller's
    transaction; `run_id` is the fetch command's id, so a batch is one run however often its
    command is delivered."""
    if not pulled:
        return
    posts_ok = sum(1 for p in pulled if p.ok)
    posts_failed = len(pulled) - posts_ok
    provider_errors = sum(1 for r in rejections if r.code in PROVIDER_CODES)
    status, _ = settle(
        posts_ok=posts_ok,
        posts_failed=posts_failed,
        accepted=accepted,
        duplicates=duplicates,
        failed_items=len(rejections),
    )
    recorded = await rr.record_pulls(
        conn,
        run_id=run_id,
        org_id=org_id,
        status=status,
        name=reason,
        started_at=started_at,
        ended_at=ended_at,
        posts_ok=posts_ok,
        posts_failed=posts_failed,
        accepted=accepted,
        duplicates=duplicates,
        rejected=len(rejections) - provider_errors,
        provider_errors=provider_errors + posts_failed,
    )
    if not recorded:
        return
    await rr.insert_items(
        conn,
        run_id=run_id,
        kind="outcome",
        items=[
            RunItem(
                status="ok" if p.ok else "failed",
                post_id=p.post_id,
                platform=p.platform,
                url=p.url,
                code=p.code,
                message=p.message,
                http_status=p.http_status,
                tries=p.tries,
            )
            for p in pulled
        ],
        at=ended_at,
    )


async def time_out_runs(pool: asyncpg.Pool, *, now: datetime, after: timedelta) -> int:
    async with pool.acquire() as conn:
        timed_out = await rr.time_out(conn, now, after)
    for row in timed_out:
        log.warning("run timed out", run_id=str(row["id"]), org_id=str(row["org_id"]))
    return len(timed_out)


def timeout_loop(
    pool: PoolGetter, now: Callable[[], datetime], after: timedelta
) -> Callable[[Any], Awaitable[None]]:
    """A loop for the service runtime: open runs older than `after` become failed `timed_out`,
    checked a few times per `after` (at most once a minute)."""
    every = min(60.0, max(0.2, after.total_seconds() / 4))

    async def loop(_: Any = None) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await time_out_runs(pool(), now=now(), after=after)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("run time-out sweep failed; the next one retries", error=repr(exc))

    return loop
