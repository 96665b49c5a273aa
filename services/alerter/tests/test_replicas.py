"""Two alerter replicas on the same queues raise each alert exactly once: events go through the
real `pulse.events` exchange, both processes consume them concurrently, and what comes back out
on the broker (alert.raised) and in the database is counted per debounce key."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import aio_pika
import asyncpg
import pytest

from pulse_contracts import utcnow
from pulse_contracts.catalog import (
    BookingUpserted,
    CampaignUpserted,
    Handle,
    InfluencerUpserted,
    OrganizationUpserted,
    PostRegistered,
)
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    LatestCounters,
    PostNumbers,
)
from pulse_contracts.posts import PostCommentsScored
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"
DEADLINE_S = 60.0


@pytest.fixture
def replicas(service_env: dict[str, str]) -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    try:
        for _ in range(2):
            proc = ServiceProcess("alerter", service_env, LOGS)
            proc.start()
            started.append(proc)
        yield started
    finally:
        for proc in started:
            proc.stop()


async def test_two_replicas_raise_each_alert_exactly_once(
    servers: Servers, replicas: list[ServiceProcess]
) -> None:
    org_id, campaign_id, booking_id = uuid4(), uuid4(), uuid4()
    influencer_id, post_id = uuid4(), uuid4()
    now = utcnow()
    today = now.date()
    # Ended yesterday but still live: every rule holds at once.
    start, end = today - timedelta(days=9), today - timedelta(days=1)
    stamp = now - timedelta(days=10)
    catalog = [
        OrganizationUpserted(id=org_id, name="Replica Agency", updated_at=stamp),
        InfluencerUpserted(
            id=influencer_id,
            display_name="Mia Chen",
            handles=[Handle(platform="tiktok", handle="@mia", followers=1000)],
            updated_at=stamp,
        ),
        CampaignUpserted(
            id=campaign_id,
            client_id=uuid4(),
            name="Replica Drop",
            status="live",
            start_date=start,
            end_date=end,
            updated_at=stamp,
        ),
        BookingUpserted(
            id=booking_id,
            campaign_id=campaign_id,
            influencer_id=influencer_id,
            fee_cents=10_000,
            committed_posts=2,
            updated_at=stamp,
        ),
        PostRegistered(
            id=post_id,
            booking_id=booking_id,
            campaign_id=campaign_id,
            platform="tiktok",
            url="https://www.tiktok.com/@mia/video/42",
            registered_at=now - timedelta(days=3),
        ),
    ]

    def numbers(i: int) -> CampaignNumbers:
        as_of = now - timedelta(seconds=60 - i)
        return CampaignNumbers(
            campaign=CampaignFigures(
                campaign_id=campaign_id,
                name="Replica Drop",
                status="live",
                start_date=start,
                end_date=end,
                kpi_pct=10.0,
            ),
            bookings=[
                BookingNumbers(
                    booking_id=booking_id,
                    influencer_id=influencer_id,
                    committed_posts=2,
                    actual_posts=1,
                    actual_views=20_000 + i,
                    actual_engagement=100,
                    engagement_rate=0.5,
                    min_engagement_rate=3.0,
                    kpi_pct=10.0,
                    posts_pct=50.0,
                )
            ],
            posts=[
                PostNumbers(
                    post_id=post_id,
                    booking_id=booking_id,
                    influencer_id=influencer_id,
                    platform="tiktok",
                    # Its newest sample is two days old: stale, as every other rule holds.
                    latest=LatestCounters(
                        observed_at=now - timedelta(days=2), views=20_000 + i, engagement=100
                    ),
                )
            ],
            as_of=as_of,
        )

    def scored(i: int) -> PostCommentsScored:
        return PostCommentsScored(
            post_id=post_id,
            booking_id=booking_id,
            campaign_id=campaign_id,
            platform="tiktok",
            analysed=40 + i,
            positive=0,
            neutral=10,
            negative=30 + i,
            scored_at=now - timedelta(seconds=60 - i),
        )

    expected = {
        f"under_kpi:campaign:{campaign_id}:95",
        f"under_kpi:booking:{booking_id}:95",
        f"engagement_drop:booking:{booking_id}",
        f"deadline:booking:{booking_id}",
        f"stale_data:post:{post_id}",
        f"viral:post:{post_id}",
        f"sentiment:post:{post_id}",
    }
    raised: Counter[str] = Counter()
    all_seen = asyncio.Event()
    async with Bus(servers.amqp_url) as bus:
        queue = await bus.channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind("pulse.events", routing_key="alert.*")

        async def watch(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                body = json.loads(message.body)
                data = body["data"]
                if body["type"] == "alert.raised" and data["campaign_id"] == str(campaign_id):
                    raised[data["debounce_key"]] += 1
                    if set(raised) == expected:
                        all_seen.set()

        await queue.consume(watch)
        for event in catalog:
            await bus.publish_event(org_id, event)
        # Many events about the same campaign at once, so both replicas evaluate it together.
        for i in range(15):
            await bus.publish_event(org_id, numbers(i))
            await bus.publish_event(org_id, scored(i))

        try:
            await asyncio.wait_for(all_seen.wait(), DEADLINE_S)
        except TimeoutError:
            pytest.fail(f"raised {dict(raised)}; logs: {[r.tail() for r in replicas]}")
        # Give a duplicate every chance to show up before counting.
        await asyncio.sleep(3)

    assert raised == Counter(dict.fromkeys(expected, 1))
    conn = await asyncpg.connect(servers.database_url)
    try:
        rows = await conn.fetch(
            "SELECT debounce_key, count(*) AS n FROM alerter.alerts WHERE campaign_id = $1 "
            "GROUP BY debounce_key",
            campaign_id,
        )
        history = await conn.fetchval(
            "SELECT count(*) FROM alerter.alert_history h JOIN alerter.alerts a "
            "ON a.id = h.alert_id WHERE a.campaign_id = $1",
            campaign_id,
        )
    finally:
        await conn.close()
    assert {r["debounce_key"]: r["n"] for r in rows} == dict.fromkeys(expected, 1)
    assert history == len(expected)  # one "raised" each: no escalation, no duplicate
    assert all(r.process is not None and r.process.poll() is None for r in replicas)
