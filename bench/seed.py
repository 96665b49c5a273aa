"""The read set of P3/P4/P5/P7: campaigns, posts and their raw sample history.

The catalog goes through the API (catalog.py). The samples cannot: 10M samples through the
webhook would take most of an hour at today's rate. So, and only here, the bench writes
another service's table: the raw samples go straight into `ingest.samples` with COPY
(`copy_records_to_table`), keyed by `ingest.tracked_posts.key`, exactly the rows ingest would
have stored.

The numbers derived from them are NOT written into the aggregator's tables: the aggregator
keeps one close per post and UTC day (the latest sample of the day, kpis.md), so the seeder
publishes those closes as `post.pulled` events (the contract ingest publishes, 1,000 samples a
message) and lets the running aggregator, alerter and share service fold them in through
their real handlers. That keeps the bench independent of how the aggregator stores its state,
and every campaign's numbers are checked through the gateway before a scenario runs.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import aio_pika
import asyncpg
import httpx

from pulse_contracts import make_event
from pulse_contracts.posts import PostPulled, Sample

from .api import bounded, login, staff_client
from .catalog import Agency, Post

# ingest's code for samples that came from an import (pulse_ingest.domain.SOURCE_CODES).
SOURCE_IMPORT = 4
SAMPLE_COLUMNS = (
    "observed_at",
    "views",
    "likes",
    "reach",
    "post_key",
    "comments",
    "shares",
    "saves",
    "source",
    "estimated",
)
TAUS_H = (24.0, 48.0, 96.0, 168.0)


@dataclass
class Close:
    """A post's last sample of one UTC day: what the aggregator keeps of that day."""

    post: Post
    observed_at: datetime
    views: int
    likes: int
    comments: int
    shares: int
    saves: int


@dataclass
class History:
    """What the seeder wrote, to check the numbers the services show."""

    samples: int = 0
    closes: list[Close] = field(default_factory=list)
    views_by_campaign: dict[str, int] = field(default_factory=dict)


def _counters(views: int) -> tuple[int, int, int, int]:
    """likes, comments, shares, saves as fixed shares of views (an engagement rate of ~6.9%)."""
    return views * 6 // 100, views * 4 // 1000, views * 2 // 1000, views * 3 // 1000


def _post_curve(rng: random.Random, n: int) -> tuple[list[float], int, int]:
    """A saturating growth curve (fractions of the total), the total views, and a jitter in
    seconds that spreads the hourly samples of different posts over the hour."""
    tau = rng.choice(TAUS_H)
    fractions = [1 - math.exp(-(i + 1) / tau) for i in range(n)]
    return fractions, rng.randrange(50_000, 2_000_000), rng.randrange(3600)


def sample_rows(
    posts: Sequence[tuple[Post, int]], per_post: int, end: datetime, history: History, seed: int
) -> Iterator[tuple[Any, ...]]:
    """Hourly samples for each (post, ingest key), ordered by (post_key, observed_at) so the
    primary key index only ever appends. Views grow strictly (the curve plus the sample's
    index), so a post's latest sample is its last one. Collects each day's close on the way."""
    rng = random.Random(seed)
    hours = [timedelta(hours=i) for i in range(per_post)]
    first = end - timedelta(hours=per_post)
    for post, key in sorted(posts, key=lambda pk: pk[1]):
        fractions, total, jitter = _post_curve(rng, per_post)
        base = first + timedelta(seconds=jitter)
        base_s = int(base.timestamp())
        previous: tuple[datetime, int] | None = None
        day = None
        for i in range(per_post):
            observed = base + hours[i]
            views = int(total * fractions[i]) + i
            likes, comments, shares, saves = _counters(views)
            today = (base_s + i * 3600) // 86400
            if previous is not None and today != day:
                history.closes.append(_close(post, *previous))
            day, previous = today, (observed, views)
            yield (observed, views, likes, None, key, comments, shares, saves, SOURCE_IMPORT, False)
        if previous is not None:
            history.closes.append(_close(post, *previous))
            history.views_by_campaign[post.campaign_id] = (
                history.views_by_campaign.get(post.campaign_id, 0) + previous[1]
            )
        history.samples += per_post


def _close(post: Post, observed: datetime, views: int) -> Close:
    return Close(post, observed, views, *_counters(views))


async def wait_posts_known(
    admin: asyncpg.Connection, agency: Agency, timeout: float
) -> dict[str, int]:
    """Ingest's key for each post, once ingest has learned every post from its catalog event."""
    wanted = {p.id for p in agency.posts}
    deadline = time.monotonic() + timeout
    while True:
        rows = await admin.fetch(
            "SELECT id::text AS id, key FROM ingest.tracked_posts WHERE org_id = $1",
            UUID(agency.org_id),
        )
        keys = {r["id"]: r["key"] for r in rows if r["id"] in wanted}
        if len(keys) == len(wanted):
            return keys
        if time.monotonic() > deadline:
            raise TimeoutError(f"ingest knows {len(keys)} of {len(wanted)} posts")
        await asyncio.sleep(1)


async def copy_samples(
    database_url: str, agency: Agency, keys: dict[str, int], per_post: int, end: datetime
) -> tuple[History, float]:
    """COPY the history of every post of `agency`; returns it and the seconds COPY took."""
    history = History()
    pairs = [(p, keys[p.id]) for p in agency.posts]
    conn = await asyncpg.connect(database_url)
    try:
        # What ingest does for a backfill (pulse_ingest.sample_months): each month of the
        # history gets its partition of ingest.samples, so the rows land in their month and not
        # in the default partition ingest would move them out of later.
        first = end - timedelta(hours=per_post + 1)
        months = {first.date().replace(day=1), end.date().replace(day=1)}
        day = first.date()
        while day < end.date():
            months.add(day.replace(day=1))
            day += timedelta(days=28)
        if await conn.fetchval("SELECT to_regproc('ingest.add_sample_month') IS NOT NULL"):
            for month in sorted(months):
                await conn.fetchval("SELECT ingest.add_sample_month($1)", month)
        started = time.monotonic()
        await conn.copy_records_to_table(
            "samples",
            schema_name="ingest",
            columns=SAMPLE_COLUMNS,
            records=sample_rows(pairs, per_post, end, history, seed=len(pairs)),
        )
        return history, time.monotonic() - started
    finally:
        await conn.close()


async def publish_closes(amqp_url: str, org_id: str, closes: list[Close]) -> int:
    """The closes as `post.pulled` batches of 1,000 on `pulse.events`; returns messages sent."""
    connection = await aio_pika.connect_robust(amqp_url)
    sent = 0
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("pulse.events")
        for start in range(0, len(closes), 1000):
            samples = [
                Sample(
                    post_id=UUID(c.post.id),
                    booking_id=UUID(c.post.booking_id),
                    campaign_id=UUID(c.post.campaign_id),
                    platform="tiktok",
                    observed_at=c.observed_at,
                    views=c.views,
                    likes=c.likes,
                    comments=c.comments,
                    shares=c.shares,
                    saves=c.saves,
                    source="import",
                )
                for c in closes[start : start + 1000]
            ]
            envelope = make_event(
                PostPulled(samples=samples), org_id=UUID(org_id), producer="ingest"
            )
            await exchange.publish(
                aio_pika.Message(
                    envelope.model_dump_json().encode(),
                    message_id=str(envelope.event_id),
                    correlation_id=envelope.correlation_id,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key="post.pulled",
            )
            sent += 1
    finally:
        await connection.close()
    return sent


async def _campaign(api: httpx.AsyncClient, campaign_id: str) -> dict[str, Any] | None:
    """The campaign with its KPIs, or None while a busy peer answers 503 or a timeout: the
    aggregator is allowed to be slow while it folds the history in."""
    try:
        response = await api.get(f"/api/campaigns/{campaign_id}")
    except httpx.HTTPError:
        return None
    if response.status_code >= 500:
        return None
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


async def wait_numbers(
    gateway_url: str,
    agency: Agency,
    expected_views: dict[str, int],
    timeout: float,
    concurrency: int = 4,
) -> float:
    """Until every campaign's views and live posts through the gateway are what was seeded;
    returns the seconds waited. Raises with the first mismatch when time runs out."""
    started = time.monotonic()
    pending = {c.id: c for c in agency.campaigns}
    async with staff_client(gateway_url) as api:
        await login(api, agency.email)
        while pending:
            docs = await bounded((_campaign(api, cid) for cid in pending), concurrency)
            for doc in docs:
                if doc is None:
                    continue
                kpis = doc.get("kpis") or {}
                campaign = pending[doc["id"]]
                if kpis.get("actual_views") == expected_views.get(doc["id"], 0) and kpis.get(
                    "actual_posts"
                ) == len(campaign.posts):
                    del pending[doc["id"]]
            if not pending:
                break
            if time.monotonic() - started > timeout:
                first = next(iter(pending))
                raise TimeoutError(
                    f"{len(pending)} campaigns still without their seeded numbers; e.g. "
                    f"{first}: expected {expected_views.get(first)} views"
                )
            await asyncio.sleep(2)
    return time.monotonic() - started
