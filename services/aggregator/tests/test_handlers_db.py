"""aggregator handlers on real PostgreSQL: redelivery changes nothing, and any order, any
duplication and any number of concurrent workers give the oracle's exact numbers; the internal
reads serve those numbers as exactly their contracts (what the gateway's peer client parses)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from pulse_aggregator import handlers, repository
from pulse_aggregator.api import internal_reads
from pulse_contracts import EventData, make_event
from pulse_contracts.catalog import (
    BookingDeleted,
    BookingUpserted,
    CampaignUpserted,
    PostRegistered,
    PostRemoved,
)
from pulse_contracts.compare import CompareResult
from pulse_contracts.internal.aggregator import (
    BookingPage,
    CampaignSummaries,
    DailySeries,
    PlatformList,
    PostPage,
    TopTags,
)
from pulse_contracts.numbers import CampaignFigures, CampaignNumbers
from pulse_contracts.posts import PostPulled, Sample
from pulse_runtime.db import create_pool
from pulse_runtime.errors import install_error_handlers
from tests.oracle.kpi_oracle import oracle_numbers
from tests.support.scenario import Scenario, build_scenario
from tests.support.servers import Servers
from tests.support.services import settings_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(settings_for("aggregator", servers).dsn, max_size=8)
    yield created
    await created.close()


def _catalog(scenario: Scenario) -> list[EventData]:
    return [
        e
        for e in scenario.events
        if e.event_type.startswith(("catalog.campaign", "catalog.booking", "catalog.post"))
    ]


def _batches(scenario: Scenario, rng: random.Random) -> list[PostPulled]:
    posts = {p["id"]: p for p in scenario.posts}
    samples = [
        Sample(
            post_id=s["post_id"],
            booking_id=posts[s["post_id"]]["booking_id"],
            campaign_id=posts[s["post_id"]]["campaign_id"],
            platform=posts[s["post_id"]]["platform"],
            observed_at=s["observed_at"],
            views=s["views"],
            likes=s["likes"],
            comments=s["comments"],
            shares=s["shares"],
            saves=s["saves"],
            reach=s["reach"],
            source="http",
        )
        for s in scenario.samples
    ]
    samples += rng.sample(samples, k=len(samples) // 4)  # duplicates in other batches
    rng.shuffle(samples)
    batches, i = [], 0
    while i < len(samples):
        size = rng.randint(1, 60)
        batches.append(PostPulled(samples=samples[i : i + size]))
        i += size
    return batches


async def _apply(
    pool: asyncpg.Pool,
    org_id: UUID,
    items: list[EventData],
    workers: int,
    known: handlers.KnownPosts | None = None,
) -> None:
    """`workers` replicas applying the items; `known`, if given, is one process's posts."""
    queue: asyncio.Queue[EventData] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            data = queue.get_nowait()
            envelope = make_event(data, org_id=org_id, producer="test")
            if data.event_type == "post.pulled":
                await handlers.on_post_pulled(pool, envelope, known)
            else:
                await handlers.on_catalog_event(pool, envelope)
            if random.random() < 0.3:  # replicas recompute while others still write
                await handlers.recompute_dirty(pool, now=lambda: datetime.now(UTC))

    await asyncio.gather(*(worker() for _ in range(workers)))
    await asyncio.gather(
        *(handlers.recompute_dirty(pool, now=lambda: datetime.now(UTC)) for _ in range(2))
    )


async def _document(pool: asyncpg.Pool, scenario: Scenario) -> dict[str, Any]:
    async with pool.acquire() as conn:
        doc = await repository.get_numbers(
            conn, org_id=scenario.org_id, campaign_id=scenario.campaign["id"]
        )
    assert doc is not None
    return doc.model_dump(mode="json")


def _without_clock(doc: dict[str, Any]) -> dict[str, Any]:
    campaign = {k: v for k, v in doc["campaign"].items() if k != "timeline_pct"}
    return {**doc, "campaign": campaign, "as_of": None}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("remembered", [False, True], ids=["every-post-ensured", "known-posts"])
async def test_any_order_duplication_and_concurrency_gives_the_oracles_numbers(
    pool: asyncpg.Pool, seed: int, remembered: bool
) -> None:
    rng = random.Random(seed)
    scenario = build_scenario(datetime.now(UTC), seed=seed)
    items: list[EventData] = [*_catalog(scenario), *_batches(scenario, rng)]
    rng.shuffle(items)  # samples before their posts, bookings after their samples: any order
    known = handlers.KnownPosts() if remembered else None
    await _apply(pool, scenario.org_id, items, workers=4, known=known)

    doc = await _document(pool, scenario)
    expected = oracle_numbers(
        scenario.campaign,
        scenario.bookings,
        scenario.posts,
        scenario.samples,
        datetime.fromisoformat(doc["as_of"]),
    )
    # Post facts (caption, url...) are not what this test is about; counters and KPIs are.
    for post in expected["posts"]:
        post.update(url=next(p["url"] for p in doc["posts"] if p["post_id"] == post["post_id"]))
    assert _without_clock(doc) == _without_clock(expected)
    assert doc["campaign"]["timeline_pct"] == expected["campaign"]["timeline_pct"]


def _sample_of(
    post: dict[str, Any], ago: timedelta, *, views: int, likes: int, post_id: UUID | None = None
) -> Sample:
    """A sample of `post` taken `ago` (of another post id of the same booking, if given)."""
    return Sample(
        post_id=post_id or post["id"],
        booking_id=post["booking_id"],
        campaign_id=post["campaign_id"],
        platform=post["platform"],
        observed_at=datetime.now(UTC) - ago,
        views=views,
        likes=likes,
        source="amqp",
    )


async def test_a_redelivered_event_changes_nothing(pool: asyncpg.Pool) -> None:
    scenario = build_scenario(datetime.now(UTC), seed=9)
    await _apply(pool, scenario.org_id, _catalog(scenario), workers=1)
    sample = _sample_of(scenario.posts[0], timedelta(hours=1), views=1000, likes=10)
    envelope = make_event(PostPulled(samples=[sample]), org_id=scenario.org_id, producer="ingest")
    assert await handlers.on_post_pulled(pool, envelope) is True
    await handlers.recompute_dirty(pool, now=lambda: datetime.now(UTC))
    before = await _document(pool, scenario)
    outbox_before = await pool.fetchval("SELECT count(*) FROM aggregator.outbox")

    assert await handlers.on_post_pulled(pool, envelope) is False
    assert await handlers.recompute_dirty(pool, now=lambda: datetime.now(UTC)) == 0
    assert await _document(pool, scenario) == before
    assert await pool.fetchval("SELECT count(*) FROM aggregator.outbox") == outbox_before


async def test_a_post_known_but_without_a_row_fails_its_batch_and_the_redelivery_counts_it(
    pool: asyncpg.Pool,
) -> None:
    # As after a database restored under a running aggregator: the process remembers a post
    # the database has no row of. Its samples must not be dropped by the queue's join.
    scenario = build_scenario(datetime.now(UTC), seed=11)
    await _apply(pool, scenario.org_id, _catalog(scenario), workers=1)
    ghost = _sample_of(
        scenario.posts[0], timedelta(minutes=5), views=777_000, likes=7, post_id=uuid4()
    )
    known = handlers.KnownPosts()
    known.add([ghost.post_id])
    envelope = make_event(PostPulled(samples=[ghost]), org_id=scenario.org_id, producer="ingest")
    pending = "SELECT count(*) FROM aggregator.pending_closes WHERE post_id = $1"

    with pytest.raises(handlers.PostRowMissing, match="1 of 1 samples have no post row"):
        await handlers.on_post_pulled(pool, envelope, known)
    assert await pool.fetchval(pending, ghost.post_id) == 0
    assert known.unknown([ghost]) == [ghost]  # forgotten: the redelivery stores the post first

    assert await handlers.on_post_pulled(pool, envelope, known) is True
    assert await pool.fetchval(pending, ghost.post_id) == 1
    assert known.unknown([ghost]) == []


async def test_removed_posts_and_deleted_bookings_leave_the_numbers(pool: asyncpg.Pool) -> None:
    scenario = build_scenario(datetime.now(UTC), seed=4)
    rng = random.Random(4)
    await _apply(pool, scenario.org_id, [*_catalog(scenario), *_batches(scenario, rng)], workers=2)
    removed = scenario.posts[0]
    deleted = scenario.bookings[1]
    now = datetime.now(UTC)
    await _apply(
        pool,
        scenario.org_id,
        [
            PostRemoved(
                id=removed["id"],
                booking_id=removed["booking_id"],
                campaign_id=removed["campaign_id"],
                removed_at=now,
            ),
            BookingDeleted(id=deleted["id"], campaign_id=deleted["campaign_id"], deleted_at=now),
        ],
        workers=1,
    )
    doc = await _document(pool, scenario)
    posts = [{**p, "removed": p["id"] == removed["id"]} for p in scenario.posts]
    bookings = [{**b, "deleted": b["id"] == deleted["id"]} for b in scenario.bookings]
    expected = oracle_numbers(
        scenario.campaign, bookings, posts, scenario.samples, datetime.fromisoformat(doc["as_of"])
    )
    assert doc["campaign"] == expected["campaign"]
    assert doc["bookings"] == expected["bookings"]
    assert doc["daily"] == expected["daily"]
    assert {b["booking_id"] for b in doc["bookings"]} == {
        str(b["id"]) for b in scenario.bookings if b is not deleted
    }


async def test_a_late_sample_recomputes_every_day_from_its_own_on(pool: asyncpg.Pool) -> None:
    scenario = build_scenario(datetime.now(UTC), seed=5)
    rng = random.Random(5)
    await _apply(pool, scenario.org_id, [*_catalog(scenario), *_batches(scenario, rng)], workers=1)
    post = scenario.posts[1]
    start = scenario.campaign["start_date"]
    late_at = datetime.combine(start + timedelta(days=2), datetime.min.time(), UTC) + timedelta(
        hours=23, minutes=59
    )
    late = {
        "post_id": post["id"],
        "observed_at": late_at,
        "views": 10**9,
        "likes": 0,
        "comments": 0,
        "shares": None,
        "saves": None,
        "reach": None,
        "estimated": False,
    }
    sample = Sample(
        post_id=post["id"],
        booking_id=post["booking_id"],
        campaign_id=post["campaign_id"],
        platform=post["platform"],
        source="http",
        **{k: v for k, v in late.items() if k not in ("post_id", "estimated")},
    )
    await _apply(pool, scenario.org_id, [PostPulled(samples=[sample])], workers=1)
    doc = await _document(pool, scenario)
    expected = oracle_numbers(
        scenario.campaign,
        scenario.bookings,
        scenario.posts,
        [*scenario.samples, late],
        datetime.fromisoformat(doc["as_of"]),
    )
    assert doc["daily"] == expected["daily"]
    day = (late_at.date() - start).days
    assert doc["daily"][day]["views_delta"] > 10**8, "the late sample's own day jumps"


async def test_an_unknown_campaign_still_counts_every_sample(pool: asyncpg.Pool) -> None:
    """Samples that overtake every catalog event are kept and counted under placeholders."""
    scenario = build_scenario(datetime.now(UTC), seed=6)
    rng = random.Random(6)
    await _apply(pool, scenario.org_id, list(_batches(scenario, rng)), workers=2)
    doc = await _document(pool, scenario)
    assert doc["campaign"]["actual_views"] == sum(
        max(
            (s for s in scenario.samples if s["post_id"] == p["id"]),
            key=lambda s: (s["observed_at"], s["views"] or 0),
        )["views"]
        or 0
        for p in scenario.posts
    )
    assert doc["daily"] == []  # no dates until the campaign itself is known
    await _apply(
        pool,
        scenario.org_id,
        [
            e
            for e in _catalog(scenario)
            if isinstance(e, CampaignUpserted | BookingUpserted | PostRegistered)
        ],
        workers=1,
    )
    assert (await _document(pool, scenario))["daily"], (
        "the series appears once the campaign is known"
    )


# --- the internal reads over HTTP: exactly their contracts (pulse_contracts.internal) ----------


TOKEN = "internal-contracts-test-token"


def _round_trip(model: type[BaseModel], served: Any) -> Any:
    """The answer parsed into its contract; it must dump back to the JSON that was served."""
    parsed = model.model_validate(served)
    assert parsed.model_dump(mode="json") == served
    return parsed


async def test_every_internal_read_answers_its_contract_exactly(pool: asyncpg.Pool) -> None:
    scenario = build_scenario(datetime.now(UTC), seed=4)
    await _apply(
        pool, scenario.org_id, [*_catalog(scenario), *_batches(scenario, random.Random(4))], 1
    )
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(internal_reads(lambda: pool, TOKEN))
    org, campaign = scenario.org_id, scenario.campaign["id"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=f"http://aggregator/internal/orgs/{org}",
        headers={"X-Pulse-Service-Token": TOKEN},
    ) as client:

        async def served(path: str, **params: str) -> Any:
            response = await client.get(path, params=params)
            assert response.status_code == 200, response.text
            return response.json()

        doc = _round_trip(CampaignNumbers, await served(f"/campaigns/{campaign}/numbers"))
        as_computed = await served(f"/campaigns/{campaign}/numbers", as_computed="true")
        kpis = _round_trip(CampaignFigures, await served(f"/campaigns/{campaign}/kpis"))
        bookings = _round_trip(BookingPage, await served(f"/campaigns/{campaign}/bookings"))
        posts = _round_trip(PostPage, await served(f"/campaigns/{campaign}/posts"))
        platforms = _round_trip(PlatformList, await served(f"/campaigns/{campaign}/platforms"))
        daily = _round_trip(DailySeries, await served(f"/campaigns/{campaign}/daily"))
        creator = scenario.bookings[0]["influencer_id"]
        _round_trip(
            DailySeries,
            await served(f"/campaigns/{campaign}/daily", influencer_id=str(creator)),
        )
        _round_trip(TopTags, await served(f"/campaigns/{campaign}/hashtags"))
        summaries = _round_trip(CampaignSummaries, await served("/campaigns", ids=str(campaign)))
        compared = _round_trip(
            CompareResult, await served("/compare", ids=f"{campaign},{campaign}")
        )
        missing = await client.get(f"/campaigns/{org}/numbers")  # no such campaign

    # What the gateway shows from these is the oracle's: the campaign's totals, its creators.
    expected = oracle_numbers(
        scenario.campaign, scenario.bookings, scenario.posts, scenario.samples, doc.as_of
    )
    assert doc.campaign.actual_views == expected["campaign"]["actual_views"] > 0
    assert doc.campaign.actual_engagement == expected["campaign"]["actual_engagement"]
    assert kpis.actual_views == doc.campaign.actual_views
    assert summaries.items == [kpis]
    assert [b.booking_id for b in bookings.items] == [b.booking_id for b in doc.bookings]
    assert len(posts.items) == len(expected["posts"])
    assert sum(p.views for p in platforms.items) == doc.campaign.actual_views
    assert daily.items[-1].views_cum == doc.daily[-1].views_cum
    assert len(compared.campaigns) == 2
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == f"no numbers for campaign {org}"
    # As computed is the stored document itself, stamped with its computation's time (what the
    # gateway's read model compares with later kpi.updated), not the read's.
    stored = await _document(pool, scenario)
    assert as_computed == stored
    assert datetime.fromisoformat(stored["as_of"]) < doc.as_of
