"""A realistic campaign for system tests: catalog events, growth-curve samples, and helpers to
deliver them the way n8n does (HTTP batches, AMQP messages) and to publish catalog events."""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import aio_pika

from pulse_contracts import EventData, make_event
from pulse_contracts.catalog import (
    ApiTokenUpserted,
    BookingUpserted,
    CampaignUpserted,
    OrganizationUpserted,
    PostRegistered,
)

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "scrapecreators"
TIKTOK_FIXTURE_ID = "7433917265401856302"


def fixtures_dir() -> Path:
    import os

    return Path(os.environ.get("PULSE_FIXTURES_DIR", FIXTURES))


@dataclass
class Scenario:
    org_id: UUID
    token: str
    campaign: dict[str, Any]
    bookings: list[dict[str, Any]]
    posts: list[dict[str, Any]]
    samples: list[dict[str, Any]]  # what the oracle sees (one per unique post + observed_at)
    items: list[dict[str, Any]]  # what is sent: metrics items, plus one raw provider body
    events: list[EventData] = field(default_factory=list)


def _curve(total: int, hours: float, tau: float) -> int:
    return int(total * (1 - math.exp(-hours / tau)))


def build_scenario(now: datetime, seed: int = 7, *, raw_fixture: bool = True) -> Scenario:
    """`raw_fixture`: one TikTok post is the fixture's video, and its newest sample is the raw
    provider body. Two scenarios of one organization must not both use it: they would track the
    same public post."""
    rng = random.Random(seed)
    today = now.astimezone(UTC).date()
    org_id, client_id, campaign_id = uuid4(), uuid4(), uuid4()
    token = f"pulse_ingest_{uuid4().hex}"
    start, end = today - timedelta(days=9), today + timedelta(days=5)
    campaign = {
        "id": campaign_id,
        "client_id": client_id,
        "name": "Glow Serum Launch",
        "status": "live",
        "start_date": start,
        "end_date": end,
        "budget_cents": 600_000_00,
        "currency": "EUR",
        "committed_views": None,  # falls back to the sum of the bookings' commitments
        "committed_engagement": 250_000,
    }
    specs = [
        # fee, views, engagement, posts, min ER, platforms
        (250_000_00, 900_000, 60_000, 2, 3.0, ["tiktok", "instagram"]),
        (120_000_00, 40_000_000, 900_000, 3, 4.0, ["youtube", "facebook", "tiktok"]),
        (50_000_00, None, None, None, None, ["instagram"]),
    ]
    bookings, posts = [], []
    for fee, views, eng, n_posts, min_er, platforms in specs:
        booking = {
            "id": uuid4(),
            "campaign_id": campaign_id,
            "influencer_id": uuid4(),
            "fee_cents": fee,
            "committed_views": views,
            "committed_engagement": eng,
            "committed_posts": n_posts,
            "min_engagement_rate": min_er,
        }
        bookings.append(booking)
        for platform in platforms:
            ppid = f"{platform[:2]}{rng.randrange(10**12)}"
            posts.append(
                {
                    "id": uuid4(),
                    "booking_id": booking["id"],
                    "campaign_id": campaign_id,
                    "platform": platform,
                    "platform_post_id": ppid,
                    "url": f"https://example.test/{platform}/{ppid}",
                }
            )
    # The second booking's TikTok post is the fixture's video, delivered as a raw body.
    raw_post = next(
        p for p in posts if p["platform"] == "tiktok" and p["booking_id"] == bookings[1]["id"]
    )
    if raw_fixture:
        raw_post["platform_post_id"] = TIKTOK_FIXTURE_ID
        raw_post["url"] = f"https://www.tiktok.com/@maya.styles/video/{TIKTOK_FIXTURE_ID}"

    samples: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    first = datetime.combine(start - timedelta(days=1), datetime.min.time(), UTC)
    for post in posts:
        total = rng.randrange(50_000, 2_000_000)
        tau = rng.uniform(20, 90)
        posted = first + timedelta(hours=rng.randrange(0, 72))
        t = posted + timedelta(minutes=rng.randrange(30, 120))
        while t < now - timedelta(minutes=10):
            hours = (t - posted).total_seconds() / 3600
            views = _curve(total, hours, tau)
            likes = int(views * rng.uniform(0.04, 0.09))
            if rng.random() < 0.05:
                likes = max(0, likes - rng.randrange(1, 500))  # likes removed: counters go down
            counters: dict[str, int | None] = {
                "views": views,
                "likes": likes,
                "comments": int(views * 0.002),
                "shares": int(views * 0.001),
                "saves": int(views * 0.0015),
                "reach": None,
            }
            if post["platform"] in ("instagram", "youtube"):
                counters["shares"] = counters["saves"] = None  # not exposed by the platform
            if post["platform"] == "facebook":
                counters["saves"] = None
            observed = t.replace(microsecond=rng.randrange(1_000_000))
            samples.append(
                {"post_id": post["id"], "observed_at": observed, **counters, "estimated": False}
            )
            reference = rng.choice(["post_id", "platform_post_id", "url"])
            item: dict[str, Any] = {"observed_at": _iso(observed), "metrics": counters}
            item[reference] = str(post["id"]) if reference == "post_id" else post[reference]
            if reference != "post_id":
                item["platform"] = post["platform"]
            items.append(item)
            t += timedelta(hours=rng.uniform(2, 10))
    scenario = Scenario(org_id, token, campaign, bookings, posts, samples, items)
    if raw_fixture:
        _add_raw_body(scenario, raw_post, now)
    stamp = now - timedelta(days=20)
    scenario.events = [
        OrganizationUpserted(id=org_id, name="Northwind Talent", updated_at=stamp),
        ApiTokenUpserted(
            id=uuid4(),
            org_id=org_id,
            name="n8n",
            token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            scopes=["ingest"],
            updated_at=stamp,
        ),
        CampaignUpserted(**campaign, updated_at=stamp),
        *[BookingUpserted(**b, updated_at=stamp) for b in bookings],
        *[
            PostRegistered(
                id=p["id"],
                booking_id=p["booking_id"],
                campaign_id=p["campaign_id"],
                platform=p["platform"],
                url=p["url"],
                platform_post_id=p["platform_post_id"],
                registered_at=stamp,
            )
            for p in posts
        ],
    ]
    return scenario


def _add_raw_body(scenario: Scenario, raw_post: dict[str, Any], now: datetime) -> None:
    """One raw ScrapeCreators body, exactly as the provider returns it."""
    raw = json.loads((fixtures_dir() / "tiktok_video.json").read_text())
    stats = raw["aweme_detail"]["statistics"]
    observed = now - timedelta(minutes=5)
    scenario.items.append({"observed_at": _iso(observed), "raw": raw})
    scenario.samples.append(
        {
            "post_id": raw_post["id"],
            "observed_at": observed,
            "views": stats["play_count"],
            "likes": stats["digg_count"],
            "comments": stats["comment_count"],
            "shares": stats["share_count"],
            "saves": stats["collect_count"],
            "reach": None,
            "estimated": False,
        }
    )


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Bus:
    """A plain aio-pika client: what another service or n8n would be on the wire."""

    def __init__(self, amqp_url: str) -> None:
        self._url = amqp_url
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None

    async def __aenter__(self) -> Bus:
        self._connection = await aio_pika.connect_robust(self._url)
        self._channel = await self._connection.channel(publisher_confirms=True)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._connection:
            await self._connection.close()

    @property
    def channel(self) -> aio_pika.abc.AbstractChannel:
        assert self._channel is not None
        return self._channel

    async def publish_event(self, org_id: UUID, data: EventData) -> None:
        envelope = make_event(data, org_id=org_id, producer="gateway")
        exchange = await self.channel.get_exchange("pulse.events")
        await exchange.publish(
            aio_pika.Message(
                envelope.model_dump_json().encode(),
                message_id=str(envelope.event_id),
                correlation_id=envelope.correlation_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=envelope.type,
        )

    async def publish_items(self, token: str, body: Any) -> None:
        """Exactly what n8n's RabbitMQ node sends: body only, the key in a header."""
        exchange = await self.channel.get_exchange("pulse.ingest")
        await exchange.publish(
            aio_pika.Message(json.dumps(body).encode(), headers={"x-pulse-key": token}),
            routing_key="ingest.posts",
        )


def today_utc(now: datetime) -> date:
    return now.astimezone(UTC).date()
