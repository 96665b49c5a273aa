"""The end of a run: what was stored against what was acknowledged, every campaign's numbers
against the independent oracle (tests/oracle/kpi_oracle.py) recomputed from the stored samples,
alerts raised twice for one debounce key, and whatever waits in a dead-letter queue."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import aio_pika
import asyncpg
import httpx

from bench import infra
from tests.oracle.kpi_oracle import oracle_numbers

from .load import Ledger, iso

ALERTS_QUEUE = "chaos.alerts"  # the run's own witness of every alert event
# Above this many stored samples the oracle gets each post's last sample of each UTC day (all
# that kpis.md's figures read: latest, daily closes) instead of every sample.
ORACLE_ALL_SAMPLES = 50_000


async def stored_counts(admin: asyncpg.Connection, org_id: str) -> Counter[tuple[str, str]]:
    rows = await admin.fetch(
        "SELECT p.id::text AS post_id, s.observed_at, count(*) AS n FROM ingest.samples s "
        "JOIN ingest.tracked_posts p ON p.key = s.post_key WHERE p.org_id = $1 "
        "GROUP BY 1, 2",
        UUID(org_id),
    )
    return Counter({(r["post_id"], iso(r["observed_at"])): r["n"] for r in rows})


def accounting(ledger: Ledger, stored: Counter[tuple[str, str]]) -> dict[str, Any]:
    lost = ledger.acked - set(stored)
    return {
        "samples_sent": ledger.sends,
        "distinct_samples_sent": len(ledger.sent),
        "acknowledged_sends": ledger.acked_sends,
        "acknowledged": len(ledger.acked),
        "stored": sum(stored.values()),
        "lost": len(lost),
        "lost_examples": sorted(lost)[:5],
        "doubled": sum(n - 1 for n in stored.values() if n > 1),
        "stored_never_sent": len(set(stored) - ledger.sent),
        "stored_unacknowledged": len(set(stored) - ledger.acked),
        "abandoned": ledger.abandoned,
        "rejected": len(ledger.rejected),
        "rejected_examples": ledger.rejected[:5],
        "http_requests": ledger.http_requests,
        "amqp_messages": ledger.amqp_messages,
        "failed_attempts": dict(sorted(ledger.failed_attempts.items())),
    }


async def _catalog(admin: asyncpg.Connection, org_id: str) -> dict[str, Any]:
    org = UUID(org_id)
    campaigns = await admin.fetch(
        "SELECT id, client_id, name, status, start_date, end_date, budget_cents, currency, "
        "committed_views, committed_engagement FROM catalog.campaigns WHERE org_id = $1",
        org,
    )
    bookings = await admin.fetch(
        "SELECT id, campaign_id, influencer_id, fee_cents, committed_views, "
        "committed_engagement, committed_posts, min_engagement_rate::float8 AS "
        "min_engagement_rate, deleted_at IS NOT NULL AS deleted FROM catalog.bookings "
        "WHERE org_id = $1",
        org,
    )
    posts = await admin.fetch(
        "SELECT id, booking_id, campaign_id, platform, url, removed_at IS NOT NULL AS removed "
        "FROM catalog.posts WHERE org_id = $1",
        org,
    )
    return {
        "campaigns": [dict(r) for r in campaigns],
        "bookings": [dict(r) for r in bookings],
        "posts": [
            {**dict(r), "posted_at": None, "caption": None, "thumb_url": None} for r in posts
        ],
    }


async def _samples(admin: asyncpg.Connection, org_id: str, every: bool) -> list[dict[str, Any]]:
    columns = (
        "p.id AS post_id, s.observed_at, s.views, s.likes, s.comments, s.shares, s.saves, "
        "s.reach, s.estimated"
    )
    if every:
        query = (
            f"SELECT {columns} FROM ingest.samples s JOIN ingest.tracked_posts p "
            "ON p.key = s.post_key WHERE p.org_id = $1"
        )
    else:
        query = (
            f"SELECT DISTINCT ON (s.post_key, (s.observed_at AT TIME ZONE 'UTC')::date) {columns} "
            "FROM ingest.samples s JOIN ingest.tracked_posts p ON p.key = s.post_key "
            "WHERE p.org_id = $1 "
            "ORDER BY s.post_key, (s.observed_at AT TIME ZONE 'UTC')::date, s.observed_at DESC"
        )
    return [dict(r) for r in await admin.fetch(query, UUID(org_id))]


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """All but the moment of computation and the post facts (no provider body was sent)."""
    campaign = {k: v for k, v in doc["campaign"].items() if k != "timeline_pct"}
    posts = [{"post_id": p["post_id"], "latest": p["latest"]} for p in doc["posts"]]
    return {**doc, "campaign": campaign, "posts": posts, "as_of": None}


async def numbers_match(
    admin: asyncpg.Connection,
    aggregator: httpx.AsyncClient,
    gateway: httpx.AsyncClient,
    org_id: str,
    stored: int,
    timeout_s: float,
) -> dict[str, Any]:
    """Every campaign's aggregator document equals the oracle's, and the gateway shows its
    views; retried until `timeout_s` (the last consumers may still be catching up)."""
    catalog = await _catalog(admin, org_id)
    samples = await _samples(admin, org_id, every=stored <= ORACLE_ALL_SAMPLES)
    deadline = time.monotonic() + timeout_s
    mismatched: dict[str, str] = {}
    while True:
        mismatched = {}
        now = datetime.now(UTC)
        for campaign in catalog["campaigns"]:
            cid = str(campaign["id"])
            expected = _comparable(
                oracle_numbers(campaign, catalog["bookings"], catalog["posts"], samples, now)
            )
            got = await aggregator.get(f"/internal/orgs/{org_id}/campaigns/{cid}/numbers")
            if got.status_code != 200 or _comparable(got.json()) != expected:
                mismatched[cid] = f"aggregator {got.status_code}"
                continue
            shown = await gateway.get(f"/api/campaigns/{cid}")
            views = (shown.json().get("kpis") or {}).get("actual_views")
            if views != expected["campaign"]["actual_views"]:
                mismatched[cid] = f"gateway shows {views} views"
        if not mismatched or time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    return {
        "campaigns": len(catalog["campaigns"]),
        "oracle_samples": len(samples),
        "oracle_every_sample": stored <= ORACLE_ALL_SAMPLES,
        "mismatched": mismatched,
    }


class AlertWitness:
    """Every alert event of the run, from a quorum queue of the run's own bound before the load
    starts (it outlives connection faults and broker restarts). Consumed all along, so the
    vhost's queues can drain, on a connection opened again whenever a fault closes it (a plain
    loop: aio-pika's robust channel did not always bring its consumer back)."""

    def __init__(self, amqp_url: str) -> None:
        self._url = amqp_url
        self._task: asyncio.Task[None] | None = None
        self._bound = asyncio.Event()
        self.events: dict[str, dict[str, Any]] = {}

    async def start(self) -> None:
        self._task = asyncio.create_task(self._consume_always())
        await asyncio.wait_for(self._bound.wait(), 30)

    async def _consume_always(self) -> None:
        while True:
            try:
                connection = await aio_pika.connect(self._url)
                async with connection:
                    channel = await connection.channel()
                    queue = await channel.declare_queue(
                        ALERTS_QUEUE, durable=True, arguments={"x-queue-type": "quorum"}
                    )
                    await queue.bind("pulse.events", routing_key="alert.*")
                    await queue.consume(self._on_message)
                    self._bound.set()
                    await connection.closed()
            except (aio_pika.exceptions.AMQPError, OSError, ConnectionError):
                pass  # the broker is faulted right now: connect again
            await asyncio.sleep(1)

    async def _on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            envelope = json.loads(message.body)
            self.events[envelope["event_id"]] = envelope  # a redelivery is the same event

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def raised_twice(self) -> dict[str, Any]:
        """A raise (not an escalation) of a debounce key while an alert of that key is open."""
        open_keys: set[str] = set()
        twice: list[str] = []
        raised = 0
        for envelope in sorted(self.events.values(), key=lambda e: e["occurred_at"]):
            data, key = envelope["data"], envelope["data"]["debounce_key"]
            if envelope["type"] == "alert.raised":
                raised += 1
                if key in open_keys and not data.get("escalated"):
                    twice.append(key)
                open_keys.add(key)
            elif envelope["type"] == "alert.resolved":
                open_keys.discard(key)
        return {"alert_events": len(self.events), "raised": raised, "raised_twice": twice}


async def dead_letter_depths(vhost: str) -> dict[str, int]:
    depths = await infra.queue_depths_async(vhost) or {}
    return {name: n for name, n in depths.items() if name.endswith(".dlq")}


async def dead_letters(amqp_url: str, vhost: str, before: dict[str, int]) -> dict[str, Any]:
    """Messages dead-lettered during the run (a shared vhost may hold older ones), with the
    reason RabbitMQ recorded (x-death) and the event type; the queues are left as they were."""
    grown = {
        name: n - before.get(name, 0)
        for name, n in (await dead_letter_depths(vhost)).items()
        if n > before.get(name, 0)
    }
    found: list[dict[str, Any]] = []
    connection = await aio_pika.connect(amqp_url)
    try:
        for name, depth in sorted(grown.items()):
            channel = await connection.channel()
            queue = await channel.get_queue(name)
            for _ in range(min(depth + before.get(name, 0), 20)):
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                headers: dict[str, Any] = dict(message.headers or {})
                death: Any = (headers.get("x-death") or [{}])[0]
                found.append(
                    {
                        "queue": name,
                        "reason": str(death.get("reason")),
                        "count": death.get("count"),
                        "type": message.type or headers.get("type"),
                    }
                )
            await channel.close()  # unacknowledged: every message goes back where it was
    finally:
        await connection.close()
    return {"dead_letters": sum(grown.values()), "examples": found}
