"""The CPU the aggregator spends taking one P1-shaped post.pulled batch, alone.

    python -m bench.pulled_cost [--pg-url postgresql://postgres@127.0.0.1/postgres]
                                [--batches 150] [--rounds 6]

P1's shape: batches of 500 samples over 2,000 posts in 10 campaigns, round robin, each a few
seconds newer than the one before. Each batch goes through the aggregator's own handler
(`handlers.on_post_pulled`: inbox, the posts' rows, the queued closes, the campaign marks) on
a pool of one connection, so the figures per batch are the handler's Python CPU
(`time.process_time`) and its PostgreSQL backend's. Rounds alternate between every post
ensured in every batch and the process's known posts (`handlers.KnownPosts`), so the machine's
drift falls on both alike. Nothing is recomputed: the queued closes only grow, in both modes.
The database is a scratch one, migrated by `pulse migrate` and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg

from pulse_aggregator import handlers
from pulse_contracts import Envelope, EventData, make_event
from pulse_contracts.posts import PostPulled, Sample
from pulse_runtime.db import create_pool
from pulse_runtime.messaging import parse_envelope
from pulse_runtime.settings import with_user

from .api import cost_script_parser, scratch_database
from .consumer_cost import backend_pid
from .system import pid_cpu_seconds

DATABASE = "pulse_bench_pulled_cost"
POSTS, CAMPAIGNS, BATCH = 2_000, 10, 500


class Feed:
    """P1's batches: the posts in turn, 500 at a time, every sample newer than the last."""

    def __init__(self) -> None:
        self.org_id = uuid4()
        campaigns = [uuid4() for _ in range(CAMPAIGNS)]
        bookings = {c: [uuid4() for _ in range(10)] for c in campaigns}
        self.posts = []  # (post, booking, campaign): ten bookings of 20 posts a campaign
        for i in range(POSTS):
            campaign = campaigns[i % CAMPAIGNS]
            self.posts.append((uuid4(), bookings[campaign][i // CAMPAIGNS % 10], campaign))
        self.at = datetime.now(UTC) - timedelta(days=2)
        self.next = 0

    def batch(self) -> PostPulled:
        samples = []
        for _ in range(BATCH):
            post_id, booking_id, campaign_id = self.posts[self.next % POSTS]
            self.next += 1
            self.at += timedelta(milliseconds=40)
            views = self.next * 3
            samples.append(
                Sample(
                    post_id=post_id,
                    booking_id=booking_id,
                    campaign_id=campaign_id,
                    platform="tiktok",
                    observed_at=self.at,
                    views=views,
                    likes=views // 20,
                    comments=views // 400,
                    source="http",
                )
            )
        return PostPulled(samples=samples)


async def measure(pg_url: str, batches: int, rounds: int) -> dict[str, list[tuple[float, float]]]:
    async with scratch_database(pg_url, DATABASE) as database_url:
        pool = await create_pool(with_user(database_url, "pulse_aggregator"), max_size=1)
        try:
            return await _rounds(pool, batches, rounds)
        finally:
            await pool.close()


async def _rounds(
    pool: asyncpg.Pool, batches: int, rounds: int
) -> dict[str, list[tuple[float, float]]]:
    """(Python ms, PostgreSQL ms) a batch, per round, by way of taking the batches."""
    figures: dict[str, list[tuple[float, float]]] = {"every post ensured": [], "known posts": []}
    feed = Feed()
    known = handlers.KnownPosts()
    pid = await backend_pid(pool)
    # The first batches store every post's row (and warm the code up): not timed.
    for _ in range(POSTS // BATCH):
        await _deliver(pool, feed, known)
    for round_ in range(rounds):
        mode = list(figures)[round_ % 2]
        envelopes = [_envelope(feed) for _ in range(batches)]
        postgres = pid_cpu_seconds(pid) or 0.0
        python = 0.0
        for envelope in envelopes:
            started = time.process_time()
            await handlers.on_post_pulled(pool, envelope, known if mode == "known posts" else None)
            python += time.process_time() - started
        postgres = (pid_cpu_seconds(pid) or 0.0) - postgres
        figures[mode].append((1000 * python / batches, 1000 * postgres / batches))
    return figures


async def _deliver(pool: asyncpg.Pool, feed: Feed, known: handlers.KnownPosts) -> None:
    await handlers.on_post_pulled(pool, _envelope(feed), known)


def _envelope(feed: Feed) -> Envelope[EventData]:
    """The next batch as the subscriber has it: sent, then decoded (not timed)."""
    event = make_event(feed.batch(), org_id=feed.org_id, producer="ingest")
    return parse_envelope(event.model_dump_json().encode(), PostPulled.event_type)


def main() -> None:
    parser = cost_script_parser(__doc__)
    parser.add_argument("--batches", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    started = time.monotonic()
    figures = asyncio.run(measure(args.pg_url, args.batches, args.rounds))
    print(f"post.pulled of {BATCH} samples over {POSTS:,} posts, {args.batches} batches a round")
    for mode, rounds in figures.items():
        python = [p for p, _ in rounds]
        postgres = [g for _, g in rounds]
        print(
            f"{mode:20} python {statistics.median(python):5.2f} ms, postgres "
            f"{statistics.median(postgres):5.2f} ms a batch (medians of {len(rounds)} rounds; "
            f"python {min(python):.2f}–{max(python):.2f}, postgres "
            f"{min(postgres):.2f}–{max(postgres):.2f})"
        )
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
