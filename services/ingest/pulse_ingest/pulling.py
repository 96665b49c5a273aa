"""Pulling from ScrapeCreators: the Puller owns the provider client and handles fetch commands.

Three kinds of work call the provider, each in a module of its own: fetch commands (here), the
refresh scheduler that enqueues them (refresh.py) and the comments loop (comment_pulls.py); all
low-priority calls wait their turn behind high-priority ones (priority.py).

One FetchPosts batch = one transaction: every provider call's pull run, the pull-state
updates, the samples (through the same `store_items` as HTTP and AMQP items, source
"provider", so one post.pulled per batch) and one post.pull_failed per failed post commit
together with the command's inbox row. Calls within a batch run one after the other (the
client's per-platform semaphore bounds concurrency across batches), so an out_of_credits
answer stops the rest of its batch before any further call; later batches of that
organization check the paused flag before each call.

Comments follow the metrics, never in their way: a fetch command does not fetch comments. Its
handler acks as soon as its metrics are stored and wakes the comments loop (comment_pulls.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal
from uuid import UUID

import asyncpg
import httpx

from pulse_contracts import Envelope, EventData, make_event
from pulse_contracts.posts import FetchPosts, FetchTarget, PostPullFailed
from pulse_runtime.db import Connection, PoolGetter
from pulse_runtime.inbox import first_delivery
from pulse_runtime.logging import get_logger
from pulse_runtime.outbox import add_to_outbox

from . import handlers, repository, runs, scheduler
from .comment_pulls import CommentPuller, CommentSettings
from .priority import PriorityGate
from .provider import ProviderConfig, ScrapeCreatorsClient
from .provider_bodies import OUT_OF_CREDITS
from .provider_runs import CIRCUIT_OPEN, NOT_FOUND, PullResult, PullRun
from .refresh import RefreshScheduler, TickResult

if TYPE_CHECKING:
    from .metrics import IngestMetrics

log = get_logger(__name__)

PROVIDER: Final = "scrapecreators"
PAUSED: Final = "paused"


@dataclass(frozen=True)
class PullSettings:
    provider: ProviderConfig
    batch_sizes: dict[str, int]
    scheduler_interval_s: float = 60.0
    queue_timeout: timedelta = scheduler.DEFAULT_QUEUE_TIMEOUT
    credit_check_interval: timedelta = timedelta(minutes=5)
    max_per_tick: int = 5000
    low_max_wait_s: float = 60.0
    comments: CommentSettings = field(default_factory=CommentSettings)


@dataclass
class _Outcome:
    post_id: UUID
    target: asyncpg.Record | None = None  # the tracked post when the command was handled
    result: PullResult | None = None  # None: no call made
    observed_at: datetime | None = None
    skip_code: str | None = None  # why no call: "not_pulled" or "paused"


PAUSED_MESSAGE: Final = (
    "pulls of this organization are paused: the provider account is out of credits "
    "(they resume when an operator resumes them or a balance check finds credits)"
)


@dataclass(frozen=True)
class PullerParts:
    """What the refresh scheduler and the comments loop share with the Puller that owns them."""

    pool: PoolGetter
    clock: scheduler.Clock
    wake_relay: Callable[[], None]
    client: Callable[[], Awaitable[ScrapeCreatorsClient]]  # waits until the client is made
    ready: asyncio.Event  # set while the app's lifespan holds the provider client


class Puller:
    """Owns the provider client and everything that calls it."""

    def __init__(
        self,
        settings: PullSettings,
        *,
        pool: PoolGetter,
        clock: scheduler.Clock,
        wake_relay: Callable[[], None],
        gate: PriorityGate,
        metrics: IngestMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self._pool = pool
        self.clock = clock
        self._wake_relay = wake_relay
        self.gate = gate
        self.client: ScrapeCreatorsClient | None = None
        self.ready = asyncio.Event()
        # Set when a benchmark account is added, so its first pull need not wait for the poll.
        self.benchmarks_due = asyncio.Event()
        parts = PullerParts(
            pool=pool, clock=clock, wake_relay=wake_relay, client=self._client, ready=self.ready
        )
        self.refresh = RefreshScheduler(settings, parts)
        self.comments = CommentPuller(settings.comments, parts, gate)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The provider client's HTTP connection pool, for the app's lifetime."""
        async with httpx.AsyncClient() as http:
            self.client = ScrapeCreatorsClient(self.settings.provider, http, now=self.clock.now)
            self.ready.set()
            try:
                yield
            finally:
                self.ready.clear()
                self.client = None

    async def _client(self) -> ScrapeCreatorsClient:
        await self.ready.wait()
        assert self.client is not None
        return self.client

    async def provider_client(self) -> ScrapeCreatorsClient:
        """The client, once the app's lifespan has made it (benchmark pulls share it)."""
        return await self._client()

    # --- fetch commands -------------------------------------------------------------------

    async def handle_fetch(self, envelope: Envelope[EventData]) -> None:
        command = envelope.data
        if not isinstance(command, FetchPosts):
            return
        if command.priority == "high":
            async with self.gate.high():
                pulled = await self._fetch(envelope, command)
        else:
            pulled = await self._fetch(envelope, command)
        self._wake_relay()
        if pulled:
            # Comments are the comments loop's, at low priority: this command is done.
            self.comments.due.set()

    async def _fetch(self, envelope: Envelope[EventData], command: FetchPosts) -> list[UUID]:
        """Pull the command's posts; returns those pulled successfully (none on a redelivery)."""
        client = await self._client()
        org_id = envelope.org_id
        async with self._pool().acquire() as conn:
            if await repository.command_handled(conn, envelope.event_id):
                return []  # a redelivery of a command already handled
            targets = await repository.fetch_targets(
                conn, org_id, [t.post_id for t in command.posts]
            )
            paused = await repository.org_paused(conn, org_id)
        outcomes: list[_Outcome] = []
        for requested in command.posts:
            target = targets.get(requested.post_id)
            outcome = _Outcome(requested.post_id, target)
            outcomes.append(outcome)
            if target is None or target["removed"] or target["deleted"] or target["org_is_test"]:
                outcome.skip_code = "not_pulled"
                continue
            if command.priority == "low":
                await self.gate.wait_turn()
            if not paused:
                async with self._pool().acquire() as conn:
                    paused = await repository.org_paused(conn, org_id)
            if paused:
                outcome.skip_code = PAUSED
                continue
            outcome.result = await client.fetch_post(target["platform"], target["url"])
            outcome.observed_at = self.clock.now()
            if outcome.result.run.error_code == OUT_OF_CREDITS:
                paused = True  # no further call in this batch
        async with self._pool().acquire() as conn, conn.transaction():
            if not await first_delivery(conn, repository.SCHEMA, envelope.event_id, envelope.type):
                return []
            await self._persist(conn, envelope, command, outcomes)
        pulled = [o.post_id for o in outcomes if o.result and o.result.run.status == "ok"]
        log.info(
            "fetch handled",
            priority=command.priority,
            reason=command.reason,
            posts=len(outcomes),
            ok=len(pulled),
        )
        return pulled

    async def _persist(
        self,
        conn: Connection,
        envelope: Envelope[EventData],
        command: FetchPosts,
        outcomes: list[_Outcome],
    ) -> None:
        org_id = envelope.org_id
        now = self.clock.now()
        runs_made: list[tuple[UUID, PullRun]] = []
        items: list[dict[str, Any]] = []
        for o in outcomes:
            if o.result is not None:
                runs_made.append((o.post_id, o.result.run))
                if o.result.run.status == "ok" and o.result.raw is not None:
                    assert o.observed_at is not None
                    items.append(
                        {
                            "post_id": str(o.post_id),
                            "observed_at": o.observed_at.isoformat(),
                            "raw": o.result.raw,
                        }
                    )
            elif o.skip_code == PAUSED and o.target is not None:
                runs_made.append((o.post_id, _paused_run(o.target, now)))
        await repository.insert_pull_runs(
            conn,
            org_id=org_id,
            command_id=envelope.event_id,
            priority=command.priority,
            reason=command.reason,
            runs=runs_made,
        )
        if self.metrics is not None:
            self.metrics.count_runs(run for _, run in runs_made)
        stored = handlers.IngestResult()
        if items:
            # Exactly like HTTP and AMQP items: one post.pulled for the whole batch.
            stored = await handlers.store_items(
                conn,
                org_id=org_id,
                items=items,
                source="provider",
                now=now,
                correlation_id=envelope.correlation_id,
            )
            if self.metrics is not None:
                self.metrics.count_items("provider", [stored])
        out_of_credits = False
        for o in outcomes:
            if o.result is None:
                if o.skip_code == PAUSED:
                    await repository.record_skip(conn, [o.post_id], PAUSED, PAUSED_MESSAGE)
                else:
                    await repository.clear_queued(conn, [o.post_id])
                continue
            run = o.result.run
            assert o.observed_at is not None
            assert o.target is not None
            if run.status == "ok":
                await repository.record_success(conn, o.post_id, o.observed_at)
                continue
            if run.status == "skipped":
                # Circuit open: no call was made, so it is not the post's failure.
                await repository.record_skip(
                    conn, [o.post_id], run.error_code or CIRCUIT_OPEN, run.error or ""
                )
                continue
            code = run.error_code or "provider_error"
            message = run.error or code
            out_of_credits |= code == OUT_OF_CREDITS
            state = await repository.record_failure(
                conn,
                o.post_id,
                at=o.observed_at,
                error_code=code,
                error=message,
                not_found=code == NOT_FOUND,
                give_up_after=scheduler.DELETED_GIVE_UP,
            )
            if state is None:
                continue
            if state["deleted_at"] is not None:
                message = f"marked deleted after 7 days of not found: {message}"
            event = make_event(
                PostPullFailed(
                    post_id=o.post_id,
                    booking_id=o.target["booking_id"],
                    campaign_id=o.target["campaign_id"],
                    provider=PROVIDER,
                    error_code=code[:200],
                    message=message[:5000],
                    consecutive_failures=max(1, state["consecutive_failures"]),
                ),
                org_id=org_id,
                producer=handlers.PRODUCER,
                correlation_id=envelope.correlation_id,
                occurred_at=now,
            )
            await add_to_outbox(conn, repository.SCHEMA, event)
        await runs.record_pulls(
            conn,
            run_id=envelope.event_id,
            org_id=org_id,
            reason=command.reason,
            started_at=min((r.started_at for _, r in runs_made), default=now),
            ended_at=now,
            pulled=[_pulled(post_id, r) for post_id, r in runs_made],
            accepted=stored.accepted,
            duplicates=stored.duplicates,
            rejections=stored.rejected,
        )
        if out_of_credits:
            await repository.pause_org(conn, org_id, now, OUT_OF_CREDITS)
            log.warning("provider out of credits: pulls paused", org_id=str(org_id))

    # --- manual refresh -------------------------------------------------------------------

    async def request_fetch(self, org_id: UUID, post_id: UUID) -> Envelope[FetchPosts] | None:
        """A high-priority fetch of one post now (the gateway's "refresh"); None if unknown."""
        async with self._pool().acquire() as conn, conn.transaction():
            row = await repository.manual_target(conn, org_id, post_id)
            if row is None:
                return None
            envelope = await handlers.enqueue_fetch(
                conn,
                org_id=org_id,
                targets=[FetchTarget(post_id=row["id"], platform=row["platform"], url=row["url"])],
                priority="high",
                reason="manual",
                now=self.clock.now(),
            )
        self._wake_relay()
        return envelope

    # --- the loops and the scheduler pass, for the app and the operator routes -------------

    async def scheduler_loop(self, _: object = None) -> None:
        await self.refresh.loop()

    async def comments_loop(self, _: object = None) -> None:
        await self.comments.loop()

    async def tick(self) -> TickResult:
        return await self.refresh.tick()


def _pulled(post_id: UUID, run: PullRun) -> runs.PulledPost:
    return runs.PulledPost(
        post_id=post_id,
        platform=run.platform,
        url=run.url,
        ok=run.status == "ok",
        code=run.error_code,
        message=run.error,
        http_status=run.http_status,
        tries=run.attempts,
    )


def _paused_run(target: asyncpg.Record, now: datetime) -> PullRun:
    return PullRun(
        platform=target["platform"],
        url=target["url"],
        status="skipped",
        http_status=None,
        latency_ms=0,
        credits=0,
        attempts=0,
        error_code=PAUSED,
        error=PAUSED_MESSAGE,
        started_at=now,
    )


PullStatus = Literal["ok", "failing", "deleted", "paused", "not_pulled"]


def pull_status(row: asyncpg.Record | dict[str, Any], *, pulling_enabled: bool) -> PullStatus:
    """One post's state as the gateway shows it."""
    if row["deleted_at"] is not None:
        return "deleted"
    if not pulling_enabled or row["platform"] == "other" or row["org_is_test"]:
        return "not_pulled"
    if row["paused_at"] is not None:
        return "paused"
    if row["consecutive_failures"] > 0:
        return "failing"
    if row["last_success_at"] is not None:
        return "ok"
    return "not_pulled"
