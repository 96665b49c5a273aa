"""Pulling from ScrapeCreators: fetch commands, the refresh scheduler and paused organizations.

High before low (design/events.md: "consumers always drain high first"). Both queues have
their own subscriber; every fetch of a low-priority batch first passes `PriorityGate.wait_turn`,
which holds it while
  1. a high-priority command is being handled in this process (an in-process counter), or
  2. `ingest.fetch.high` still has ready messages on the broker (a passive queue declare on a
     channel of our own, which returns the queue's ready count) — those are high commands that
     no consumer has taken yet, possibly because this replica's high prefetch is full, or
     another replica's.
The check runs before each post of a low batch, not once per batch, so a start-tracking fetch
waits for at most one provider call of a batch in progress. Alternatives not taken: one
consumer loop polling both queues with basic.get adds a polling delay to every high command
and gives up the broker's push delivery; broker-side priorities do not fit, since quorum
queues (every Pulse queue is one) have no `x-max-priority` in RabbitMQ 3.13, and RabbitMQ 4's
two quorum priorities are served in a 2:1 ratio, not strictly.
If the broker check fails (channel closed, broker away) it counts as "no high backlog" — low
work is never blocked by the probe itself — and a low fetch waiting more than
`low_max_wait_s` proceeds with a warning, so a stuck high queue cannot starve refreshes
forever.

One FetchPosts batch = one transaction: every provider call's pull run, the pull-state
updates, the samples (through the same `store_items` as HTTP and AMQP items, source
"provider", so one post.pulled per batch) and one post.pull_failed per failed post commit
together with the command's inbox row. Calls within a batch run one after the other (the
client's per-platform semaphore bounds concurrency across batches), so an out_of_credits
answer stops the rest of its batch before any further call; later batches of that
organization check the paused flag before each call.

Comments follow the metrics, never in their way. A fetch command does not fetch comments: its
handler acks as soon as its metrics are stored, so a newly registered post's first numbers never
wait behind anyone's comment pages. Comments are low-priority work of their own: a comments loop
(`comments_loop`, in every replica) is woken when a pull succeeds (and looks anyway every
`poll_s`, for pulls of other replicas and work left by a restart), waits its turn behind
high-priority fetches like low fetches do (`PriorityGate.wait_turn`, before every post), and
fetches the comments of each due post, `workers` at a time, each bounded (`CommentSettings`: at
most `per_pull` comments over `max_pages` pages) and each in its own transaction with its comment
pull, the new comments and one post.comments_scored. Due posts are found in the database
(due_comments.sql), so nothing is lost when a process stops, and are claimed one at a time right
before their call (claim_comment_pulls.sql, one statement, so two replicas never both fetch a
post's comments). A failed comments fetch is a failed comment pull (its own table) and a log
line: it does not touch the post's pull state, its failure streak or post.pull_failed, and an
out-of-credits answer only ends this pass of the loop (the next metrics call meets the same 402
and pauses the organization the usual way).

Cadence: comments follow a successful metrics pull, at most once per `every` (6 h by default)
per post: a post is due when it was pulled within the last `every` and either its comments were
never asked for or it was pulled at least `every` after they last were. The claim stamps the
time before the call, so a failing comments endpoint is not asked on every metrics pull either.
Sentiment moves slowly next to the counters, each page costs a credit like a metrics call, and
the per-pull bound samples a busy post rather than reading it in full. For a post in its first
day (metrics every hour) that is at most 4 fetches of up to 3 pages, 12 credits a day next to
24 for its metrics, and less afterwards (3 h, 12 h, 24 h intervals: a comments fetch then
follows at most every other metrics pull, or each one). Posts no longer pulled (a campaign
over, a test organization, a paused one) get no comments either.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal
from uuid import UUID

import aio_pika
import asyncpg
import httpx

from pulse_contracts import Envelope, EventData, make_event
from pulse_contracts.posts import FetchPosts, FetchTarget, PostCommentsScored, PostPullFailed
from pulse_runtime.db import Connection, PoolGetter
from pulse_runtime.inbox import first_delivery
from pulse_runtime.logging import get_logger
from pulse_runtime.outbox import add_to_outbox

from . import handlers, repository, runs, scheduler
from .comments import scored
from .normalizer import OUT_OF_CREDITS
from .provider import (
    CIRCUIT_OPEN,
    NOT_FOUND,
    CreditBalanceError,
    ProviderConfig,
    PullResult,
    PullRun,
    ScrapeCreatorsClient,
)

if TYPE_CHECKING:
    from .metrics import IngestMetrics

log = get_logger(__name__)

PROVIDER: Final = "scrapecreators"
HIGH_QUEUE: Final = "ingest.fetch.high"
LOW_QUEUE: Final = "ingest.fetch.low"  # scheduled refreshes of booked posts (benchmarks wait)
# pg_advisory lock key of the refresh scheduler: one replica acts per tick.
SCHEDULER_LOCK_KEY: Final = 0x7075_6C73_6501  # "pulse" + 1
PAUSED: Final = "paused"
# Due posts read per pass of the comments loop; a full pass starts another one at once.
_COMMENTS_PER_PASS: Final = 200


# --- high before low ----------------------------------------------------------------------


class QueueDepth:
    """Ready messages in a queue, by passive declare on a dedicated channel."""

    def __init__(self, amqp_url: str, queue: str) -> None:
        self._url = amqp_url
        self._queue = queue
        self._connection: Any = None
        self._channel: Any = None
        self._warned = False

    async def __call__(self) -> int:
        try:
            if self._connection is None:
                self._connection = await aio_pika.connect_robust(self._url)
            if self._channel is None or self._channel.is_closed:
                self._channel = await self._connection.channel()
            # robust=False: a robust channel would cache the first declaration and return its
            # stale count forever after.
            queue = await self._channel.declare_queue(self._queue, passive=True, robust=False)
            count = queue.declaration_result.message_count
            self._warned = False
            return int(count or 0)
        except Exception as exc:  # the probe must never block low-priority work
            self._channel = None
            if not self._warned:
                log.warning("high queue depth unavailable", queue=self._queue, error=repr(exc))
                self._warned = True
            return 0

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = self._channel = None


class PriorityGate:
    """Low-priority fetches wait while high-priority work is in hand or waiting on the broker."""

    def __init__(
        self,
        high_backlog: Callable[[], Awaitable[int]] | None = None,
        *,
        poll_s: float = 0.05,
        max_wait_s: float = 60.0,
    ) -> None:
        self._high_backlog = high_backlog
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._poll_s = poll_s
        self._max_wait_s = max_wait_s
        self.waited = 0  # low fetches that had to wait (observability and tests)

    @property
    def high_active(self) -> int:
        return self._active

    @contextlib.asynccontextmanager
    async def high(self) -> AsyncIterator[None]:
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    async def wait_turn(self) -> None:
        deadline = time.monotonic() + self._max_wait_s
        waited = False
        while True:
            if self._active:
                waited = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._idle.wait(), timeout=max(0.0, deadline - time.monotonic())
                    )
            backlog = await self._high_backlog() if self._high_backlog is not None else 0
            if self._active == 0 and backlog == 0:
                break
            if time.monotonic() >= deadline:
                log.warning("low-priority fetch waited too long for high; proceeding")
                break
            if backlog:
                waited = True
                await asyncio.sleep(self._poll_s)
        if waited:
            self.waited += 1


# --- settings the puller needs ------------------------------------------------------------


@dataclass(frozen=True)
class CommentSettings:
    enabled: bool = True
    per_pull: int = 50  # comments per post per fetch, at most
    max_pages: int = 3  # provider pages per post per fetch (a credit each)
    every: timedelta = timedelta(hours=6)  # at most one comments fetch per post per this
    workers: int = 2  # posts whose comments are fetched at once, per replica
    poll_s: float = 30.0  # the loop looks for due posts at least this often


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


@dataclass(frozen=True)
class TickResult:
    acted: bool
    batches: list[scheduler.Batch] = field(default_factory=list)
    resumed: list[UUID] = field(default_factory=list)
    credits: int | None = None

    def as_response(self) -> dict[str, Any]:
        return {
            "acted": self.acted,
            "batches": [
                {
                    "org_id": str(b.org_id),
                    "platform": b.platform,
                    "post_ids": [str(p.post_id) for p in b.posts],
                }
                for b in self.batches
            ],
            "resumed": [str(o) for o in self.resumed],
            "credits": self.credits,
        }


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
        self._last_credit_check: datetime | None = None
        self._comments_due = asyncio.Event()
        # Set when a benchmark account is added, so its first pull need not wait for the poll.
        self.benchmarks_due = asyncio.Event()

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
            self._comments_due.set()

    async def _fetch(self, envelope: Envelope[EventData], command: FetchPosts) -> list[UUID]:
        """Pull the command's posts; returns those pulled successfully (none on a redelivery)."""
        client = await self._client()
        org_id = envelope.org_id
        async with self._pool().acquire() as conn:
            if await conn.fetchval(
                f"SELECT 1 FROM {repository.SCHEMA}.inbox WHERE event_id = $1", envelope.event_id
            ):
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

    # --- comments (low priority, after the metrics) -----------------------------------------

    async def comments_loop(self, _: object = None) -> None:
        """Runs in every replica: fetches due comments when woken by a successful pull, and at
        least every `poll_s` (see the module doc)."""
        await self.ready.wait()
        settings = self.settings.comments
        if not settings.enabled or settings.per_pull <= 0:
            return
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._comments_due.wait(), timeout=settings.poll_s)
            self._comments_due.clear()
            try:
                await self.pull_due_comments()
            except* (OSError, asyncpg.PostgresError) as failed:
                log.warning(
                    "comments pass failed; the next one retries", error=repr(failed.exceptions[0])
                )

    async def pull_due_comments(self) -> int:
        """One pass: the comments of every post due now, `workers` posts at a time, each after
        high-priority work has had its turn. Returns how many posts were fetched."""
        settings = self.settings.comments
        client = await self._client()
        async with self._pool().acquire() as conn:
            due = await repository.due_comments(
                conn, now=self.clock.now(), every=settings.every, limit=_COMMENTS_PER_PASS
            )
        queue = list(due)
        queue.reverse()  # pop() from the end: oldest pull first
        fetched = 0
        out_of_credits = False

        async def worker() -> None:
            nonlocal fetched, out_of_credits
            while queue and not out_of_credits:
                candidate = queue.pop()
                await self.gate.wait_turn()
                code = await self._pull_comments_of(client, candidate)
                if code is None:
                    continue
                fetched += 1
                if code == OUT_OF_CREDITS:
                    out_of_credits = True  # no further comment call in this pass

        async with asyncio.TaskGroup() as workers:  # one failing stops the others
            for _ in range(max(1, settings.workers)):
                workers.create_task(worker())
        if len(due) == _COMMENTS_PER_PASS and fetched and not out_of_credits:
            # More may be waiting: another pass right away (only after progress, so posts that
            # cannot be claimed, e.g. under clock skew, never make the loop spin).
            self._comments_due.set()
        return fetched

    async def _pull_comments_of(
        self, client: ScrapeCreatorsClient, due: asyncpg.Record
    ) -> str | None:
        """Claim one due post and fetch its comments; None when it was not ours to fetch (an
        organization paused meanwhile, another replica's claim), else the run's error code
        ("" for none)."""
        settings = self.settings.comments
        org_id: UUID = due["org_id"]
        post_id: UUID = due["id"]
        # Claimed right before the call, so posts a pass does not reach stay due.
        async with self._pool().acquire() as conn:
            if await repository.org_paused(conn, org_id):
                return None
            claimed_at = self.clock.now()
            claimed = await repository.claim_comment_pulls(
                conn, org_id, [post_id], now=claimed_at, every=settings.every
            )
        if not claimed:
            return None
        target = claimed[0]
        result = await client.fetch_comments(
            target["platform"],
            target["url"],
            limit=settings.per_pull,
            max_pages=settings.max_pages,
        )
        fetched_at = self.clock.now()
        async with self._pool().acquire() as conn, conn.transaction():
            new = await repository.insert_comments(
                conn, post_id, fetched_at, scored(result.comments)
            )
            await repository.insert_comment_pull(
                conn,
                org_id=org_id,
                post_id=post_id,
                command_id=due["command_id"],
                run=result.run,
                pages=result.pages,
                received=len(result.comments),
                new_comments=new,
            )
            if result.run.status == "skipped":
                await repository.release_comment_claim(conn, post_id, claimed_at)
            if new:
                counts = await repository.comment_counts(conn, post_id)
                event = make_event(
                    PostCommentsScored(
                        post_id=post_id,
                        booking_id=target["booking_id"],
                        campaign_id=target["campaign_id"],
                        platform=target["platform"],
                        analysed=counts["analysed"],
                        positive=counts["positive"],
                        neutral=counts["neutral"],
                        negative=counts["negative"],
                        scored_at=fetched_at,
                    ),
                    org_id=org_id,
                    producer=handlers.PRODUCER,
                    correlation_id=str(due["command_id"]),
                    occurred_at=fetched_at,
                )
                await add_to_outbox(conn, repository.SCHEMA, event)
        if new:
            self._wake_relay()
        run = result.run
        if run.status != "ok" or run.error_code is not None:
            log.warning(
                "comments fetch failed" if run.status != "ok" else "comments fetch partial",
                post_id=str(post_id),
                platform=run.platform,
                status=run.status,
                error_code=run.error_code,
                error=run.error,
                received=len(result.comments),
            )
        return run.error_code or ""

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

    # --- the refresh scheduler ------------------------------------------------------------

    async def scheduler_loop(self, _: object = None) -> None:
        """Runs in every replica; `tick` acts only under the advisory lock."""
        await self.ready.wait()
        interval = max(0.1, self.settings.scheduler_interval_s)
        while True:
            # Jitter keeps replicas that started together from contending on every tick.
            await asyncio.sleep(interval * random.uniform(0.9, 1.1))
            try:
                result = await self.tick()
                if result.batches:
                    log.info(
                        "refresh scheduled",
                        batches=len(result.batches),
                        posts=sum(len(b.posts) for b in result.batches),
                    )
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("scheduler tick failed; next tick retries", error=repr(exc))

    async def tick(self) -> TickResult:
        """One scheduler pass: balance check for paused organizations, then every due post
        enqueued as low-priority batches — only by the replica holding the advisory lock."""
        async with self._pool().acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", SCHEDULER_LOCK_KEY):
                return TickResult(acted=False)
            try:
                now = self.clock.now()
                resumed, credits = await self._check_credits(conn, now)
                async with conn.transaction():
                    batches = await self._enqueue_due(conn, now)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", SCHEDULER_LOCK_KEY)
        if batches:
            self._wake_relay()
        return TickResult(acted=True, batches=batches, resumed=resumed, credits=credits)

    async def _enqueue_due(self, conn: Connection, now: datetime) -> list[scheduler.Batch]:
        rows = await repository.scheduler_candidates(
            conn,
            now=now,
            min_interval=scheduler.MIN_INTERVAL,
            queue_timeout=self.settings.queue_timeout,
        )
        posts = [scheduler.PostSchedule(**dict(row)) for row in rows]
        due = scheduler.due_posts(
            posts,
            now,
            queue_timeout=self.settings.queue_timeout,
            limit=self.settings.max_per_tick,
        )
        batches = scheduler.plan_batches(due, scheduler.batch_sizes(self.settings.batch_sizes))
        for batch in batches:
            await handlers.enqueue_fetch(
                conn,
                org_id=batch.org_id,
                targets=[
                    FetchTarget(post_id=p.post_id, platform=p.platform, url=p.url)
                    for p in batch.posts
                ],
                priority="low",
                reason="scheduled",
                now=now,
            )
        return batches

    async def _check_credits(
        self, conn: Connection, now: datetime
    ) -> tuple[list[UUID], int | None]:
        """While any organization is paused, ask the provider's balance (a free call) at most
        once per credit_check_interval; credits found resume every paused organization."""
        if not await repository.any_paused(conn):
            return [], None
        last = self._last_credit_check
        # (A clock that moved backwards, as tests move it, counts as due for a check.)
        if last is not None and timedelta(0) <= now - last < self.settings.credit_check_interval:
            return [], None
        self._last_credit_check = now
        client = await self._client()
        try:
            credits = await client.credit_balance()
        except CreditBalanceError as exc:
            log.warning("credit balance check failed", code=exc.code, error=exc.message)
            return [], None
        if credits <= 0:
            return [], credits
        async with conn.transaction():
            resumed = await repository.resume_orgs(conn, None, now)
        log.info("provider credits available again: pulls resumed", organizations=len(resumed))
        return resumed, credits

    async def resume(self, org_id: UUID) -> bool:
        async with self._pool().acquire() as conn:
            resumed = await repository.resume_orgs(conn, [org_id], self.clock.now())
        return bool(resumed)


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
