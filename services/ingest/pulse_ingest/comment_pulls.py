"""The comments loop: comments of recently pulled posts, fetched at low priority after the metrics.


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
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final
from uuid import UUID

import asyncpg

from pulse_contracts import make_event
from pulse_contracts.posts import PostCommentsScored
from pulse_runtime.logging import get_logger
from pulse_runtime.outbox import add_to_outbox

from . import handlers, repository
from .comments import scored
from .priority import PriorityGate
from .provider import ScrapeCreatorsClient
from .provider_bodies import OUT_OF_CREDITS

if TYPE_CHECKING:
    from .pulling import PullerParts

log = get_logger(__name__)

# Due posts read per pass of the comments loop; a full pass starts another one at once.
_COMMENTS_PER_PASS: Final = 200


@dataclass(frozen=True)
class CommentSettings:
    enabled: bool = True
    per_pull: int = 50  # comments per post per fetch, at most
    max_pages: int = 3  # provider pages per post per fetch (a credit each)
    every: timedelta = timedelta(hours=6)  # at most one comments fetch per post per this
    workers: int = 2  # posts whose comments are fetched at once, per replica
    poll_s: float = 30.0  # the loop looks for due posts at least this often


class CommentPuller:
    """Fetches the comments of due posts, `workers` at a time, each in its own transaction."""

    def __init__(self, settings: CommentSettings, parts: PullerParts, gate: PriorityGate) -> None:
        self.settings = settings
        self._parts = parts
        self.gate = gate
        self.due = asyncio.Event()  # set when a pull succeeds: comments may be due

    async def loop(self) -> None:
        """Runs in every replica: fetches due comments when woken by a successful pull, and at
        least every `poll_s` (see the module doc)."""
        await self._parts.ready.wait()
        settings = self.settings
        if not settings.enabled or settings.per_pull <= 0:
            return
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.due.wait(), timeout=settings.poll_s)
            self.due.clear()
            try:
                await self.pull_due_comments()
            except* (OSError, asyncpg.PostgresError) as failed:
                log.warning(
                    "comments pass failed; the next one retries", error=repr(failed.exceptions[0])
                )

    async def pull_due_comments(self) -> int:
        """One pass: the comments of every post due now, `workers` posts at a time, each after
        high-priority work has had its turn. Returns how many posts were fetched."""
        settings = self.settings
        client = await self._parts.client()
        async with self._parts.pool().acquire() as conn:
            due = await repository.due_comments(
                conn, now=self._parts.clock.now(), every=settings.every, limit=_COMMENTS_PER_PASS
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
            self.due.set()
        return fetched

    async def _pull_comments_of(
        self, client: ScrapeCreatorsClient, due: asyncpg.Record
    ) -> str | None:
        """Claim one due post and fetch its comments; None when it was not ours to fetch (an
        organization paused meanwhile, another replica's claim), else the run's error code
        ("" for none)."""
        settings = self.settings
        org_id: UUID = due["org_id"]
        post_id: UUID = due["id"]
        # Claimed right before the call, so posts a pass does not reach stay due.
        async with self._parts.pool().acquire() as conn:
            if await repository.org_paused(conn, org_id):
                return None
            claimed_at = self._parts.clock.now()
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
        fetched_at = self._parts.clock.now()
        async with self._parts.pool().acquire() as conn, conn.transaction():
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
            self._parts.wake_relay()
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
