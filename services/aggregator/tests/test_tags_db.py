"""The hashtag and mention rollup on real PostgreSQL, against an independent calculation: the
tags a caption was written with (never parsed back) and each post's latest sample."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from pulse_aggregator import handlers, tags_repository
from pulse_contracts import EventData, make_event
from pulse_contracts.catalog import BookingDeleted, PostRemoved
from pulse_contracts.posts import PostFacts, PostPulled, Sample
from pulse_runtime.db import create_pool
from tests.oracle.tags_oracle import oracle_tags
from tests.support.scenario import Scenario, build_scenario
from tests.support.servers import Servers
from tests.support.services import settings_for

pytestmark = pytest.mark.integration

# How agencies' creators write them, and the one form each must count under.
HASHTAGS = {
    "GlowUp": "glowup",
    "skincare": "skincare",
    "Ad": "ad",
    "Straße": "strasse",
    "สวัสดี": "สวัสดี",
    "東京": "東京",
    "top_10": "top_10",
}
MENTIONS = {"Maya.Styles": "maya.styles", "glow_co": "glow_co", "NIKE": "nike"}
NOISE = ["mail us at hello@glow.example", "step #1", "a#b", "&#39;", "2 for 1!"]


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(settings_for("aggregator", servers).dsn, max_size=4)
    yield created
    await created.close()


def _written(rng: random.Random, sign: str, word: str) -> str:
    shaped = rng.choice([word, word.upper(), word.lower(), word.title()])
    return sign + shaped + rng.choice(["", "", "!", ".", ",", "?", ")"])


def _caption(rng: random.Random) -> tuple[str, set[str], set[str]]:
    hashtags = rng.sample(sorted(HASHTAGS), k=rng.randint(0, 4))
    mentions = rng.sample(sorted(MENTIONS), k=rng.randint(0, 2))
    words = [_written(rng, "#", h) for h in hashtags] + [_written(rng, "@", m) for m in mentions]
    words += [_written(rng, "#", h) for h in hashtags if rng.random() < 0.3]  # said twice
    words += rng.sample(NOISE, k=2)
    rng.shuffle(words)
    return (
        " ".join(words),
        {HASHTAGS[h] for h in hashtags},
        {MENTIONS[m] for m in mentions},
    )


def _samples(scenario: Scenario) -> list[Sample]:
    posts = {p["id"]: p for p in scenario.posts}
    return [
        Sample(
            post_id=s["post_id"],
            booking_id=posts[s["post_id"]]["booking_id"],
            campaign_id=posts[s["post_id"]]["campaign_id"],
            platform=posts[s["post_id"]]["platform"],
            observed_at=s["observed_at"],
            **{k: s[k] for k in ("views", "likes", "comments", "shares", "saves", "reach")},
            source="http",
        )
        for s in scenario.samples
    ]


async def _deliver(pool: asyncpg.Pool, org_id: UUID, events: list[EventData]) -> None:
    for data in events:
        envelope = make_event(data, org_id=org_id, producer="test")
        if data.event_type == "post.pulled":
            await handlers.on_post_pulled(pool, envelope)
        else:
            await handlers.on_catalog_event(pool, envelope)
    await handlers.recompute_dirty(pool, now=lambda: datetime.now(UTC))


async def _top(
    pool: asyncpg.Pool, scenario: Scenario, first: date | None, last: date | None
) -> dict[str, list[dict[str, Any]]]:
    async with pool.acquire() as conn:
        return {
            f"{kind}s": await tags_repository.top_tags(
                conn,
                org_id=scenario.org_id,
                campaign_id=scenario.campaign["id"],
                kind=kind,
                first_day=first,
                last_day=last,
                limit=20,
            )
            for kind in ("hashtag", "mention")
        }


@pytest.mark.parametrize("seed", [11, 12])
async def test_top_tags_match_the_independent_calculation_in_any_window(
    pool: asyncpg.Pool, seed: int
) -> None:
    rng = random.Random(seed)
    scenario = build_scenario(datetime.now(UTC), seed=seed)
    written = {p["id"]: _caption(rng) for p in scenario.posts}
    today = datetime.now(UTC).date()
    posted = {
        p["id"]: datetime.now(UTC) - timedelta(days=rng.randrange(0, 6)) for p in scenario.posts
    }
    unknown = scenario.posts[-1]["id"]  # the provider never said when this one went up
    facts = [
        PostFacts(post_id=pid, caption=caption, posted_at=None if pid == unknown else posted[pid])
        for pid, (caption, _, _) in written.items()
    ]
    samples = _samples(scenario)
    rng.shuffle(samples)
    catalog = [
        e
        for e in scenario.events
        if e.event_type.startswith(("catalog.campaign", "catalog.booking", "catalog.post"))
    ]
    await _deliver(
        pool,
        scenario.org_id,
        [
            *catalog,
            PostPulled(samples=samples[: len(samples) // 2], posts=facts),
            PostPulled(samples=samples[len(samples) // 2 :]),
        ],
    )
    tags_of = {pid: (h, m) for pid, (_, h, m) in written.items()}
    posted_day = {
        pid: (None if pid == unknown else posted[pid].astimezone(UTC).date()) for pid in posted
    }
    windows = [
        (None, None),
        (today - timedelta(days=2), today),
        (None, today - timedelta(days=3)),
        (today - timedelta(days=1), None),
        (today, today - timedelta(days=1)),
    ]
    for first, last in windows:
        want = oracle_tags(
            posts=scenario.posts,
            samples=scenario.samples,
            tags_of=tags_of,
            posted_day=posted_day,
            first_day=first,
            last_day=last,
        )
        assert await _top(pool, scenario, first, last) == want, (first, last)
    assert (await _top(pool, scenario, None, None))["hashtags"], "the scenario wrote no hashtags"

    # An edited caption, a removed post and a deleted booking move the rollup with them.
    edited = scenario.posts[0]
    removed = scenario.posts[1]
    deleted = scenario.bookings[2]
    now = datetime.now(UTC)
    newest = max(
        (s for s in _samples(scenario) if s.post_id == edited["id"]), key=lambda s: s.observed_at
    )
    await _deliver(
        pool,
        scenario.org_id,
        [
            PostPulled(
                samples=[newest],
                posts=[PostFacts(post_id=edited["id"], caption="Now just #Edited!")],
            ),
            PostRemoved(
                id=removed["id"],
                booking_id=removed["booking_id"],
                campaign_id=removed["campaign_id"],
                removed_at=now,
            ),
            BookingDeleted(id=deleted["id"], campaign_id=deleted["campaign_id"], deleted_at=now),
        ],
    )
    tags_of[edited["id"]] = ({"edited"}, set())
    tracked = [
        p for p in scenario.posts if p["id"] != removed["id"] and p["booking_id"] != deleted["id"]
    ]
    want = oracle_tags(
        posts=tracked,
        samples=scenario.samples,
        tags_of=tags_of,
        posted_day=posted_day,
        first_day=None,
        last_day=None,
    )
    got = await _top(pool, scenario, None, None)
    assert got == want
    assert any(t["tag"] == "edited" for t in got["hashtags"])


async def test_the_rollup_is_kept_per_campaign_and_day_not_per_sample(pool: asyncpg.Pool) -> None:
    """Reads sum the rollup: it holds one row per tag and publication day, however many
    samples the posts have."""
    scenario = build_scenario(datetime.now(UTC), seed=13)
    when = datetime.now(UTC) - timedelta(days=1)
    facts = [
        PostFacts(post_id=p["id"], caption="#same @one", posted_at=when) for p in scenario.posts
    ]
    catalog = [
        e
        for e in scenario.events
        if e.event_type.startswith(("catalog.campaign", "catalog.booking", "catalog.post"))
    ]
    await _deliver(
        pool, scenario.org_id, [*catalog, PostPulled(samples=_samples(scenario), posts=facts)]
    )
    rows = await pool.fetch(
        "SELECT kind, tag, day, posts FROM aggregator.campaign_tags WHERE campaign_id = $1",
        scenario.campaign["id"],
    )
    assert len(scenario.samples) > 20
    assert sorted((r["kind"], r["tag"], r["posts"]) for r in rows) == [
        ("hashtag", "same", len(scenario.posts)),
        ("mention", "one", len(scenario.posts)),
    ]
