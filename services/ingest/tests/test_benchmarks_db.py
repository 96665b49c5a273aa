"""Benchmark accounts pulled through the real provider client from the fake ScrapeCreators
process, stored on real PostgreSQL, and rolled up; checked against an independent calculation
from the provider's own bodies (docs/insights.md)."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from pulse_contracts import make_event, utcnow
from pulse_contracts.benchmarks import BenchmarkAccountRemoved, BenchmarkAccountUpserted
from pulse_ingest import benchmarks
from pulse_ingest.provider import ProviderConfig, ScrapeCreatorsClient
from pulse_ingest.repository import sql
from pulse_runtime.db import create_pool
from tests.support.servers import Servers
from tests.support.services import settings_for

from .conftest import DUMMY_KEY, FakeProvider

pytestmark = pytest.mark.integration
D = timedelta(days=1)


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(settings_for("ingest", servers).dsn, max_size=4)
    yield created
    await created.close()


SEEN: list[tuple[str, dict[str, str], Any]] = []  # (path, query, body) the provider answered


async def _keep(response: httpx.Response) -> None:
    await response.aread()
    SEEN.append((response.url.path, dict(response.url.params), response.json()))


@pytest.fixture
async def client(fake_provider: FakeProvider) -> AsyncIterator[ScrapeCreatorsClient]:
    """The real client; every answer is kept, so the oracle reads the very bodies the pull
    read (the fake's counters move with the clock)."""
    fake_provider.reset()
    SEEN.clear()
    config = ProviderConfig(base_url=fake_provider.url, api_key=DUMMY_KEY, max_attempts=2)
    async with httpx.AsyncClient(event_hooks={"response": [_keep]}) as http:
        yield ScrapeCreatorsClient(config, http, rng=random.Random(1))


def _round(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def provider_pages(path: str, handle: str) -> list[dict[str, Any]]:
    """The posts pages the provider answered for `handle`, in the order they were asked."""
    return [body for p, query, body in SEEN if p == path and query.get("handle") == handle]


def expected_rollup(platform: str, pages: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """The documented figures, read straight from the provider's posts bodies."""
    if platform == "tiktok":
        rows = [
            (
                it["create_time"],
                it["statistics"]["play_count"],
                sum(
                    it["statistics"][k]
                    for k in ("digg_count", "comment_count", "share_count", "collect_count")
                ),
            )
            for body in pages
            for it in body["aweme_list"]
        ]
    else:
        rows = [
            (it["taken_at"], it["play_count"], it["like_count"] + it["comment_count"])
            for body in pages
            for it in body["items"]
        ]
    start = (now - timedelta(days=30)).timestamp()
    recent = [r for r in rows if start < r[0] <= now.timestamp()]
    views = _median([Decimal(v) for _, v, _ in recent])
    rates = _median([Decimal(100 * e) / Decimal(v) for _, v, e in recent if v])
    return {
        "posts_30d": len(recent),
        "posts_per_week": _round(Decimal(len(recent) * 7) / Decimal(30)),
        "median_views": _round(views) if views is not None else None,
        "median_engagement_rate": _round(rates) if rates is not None else None,
    }


async def _account(pool: asyncpg.Pool, org_id: UUID, platform: str, handle: str) -> UUID:
    account_id = uuid4()
    event = BenchmarkAccountUpserted(
        id=account_id,
        set_id=uuid4(),
        platform=platform,
        handle=handle,  # type: ignore[arg-type]
        updated_at=utcnow(),
    )
    assert await benchmarks.on_account_event(pool, make_event(event, org_id=org_id, producer="t"))
    return account_id


async def _quiet(pool: asyncpg.Pool) -> None:
    """No account of an earlier test left due."""
    await pool.execute("UPDATE ingest.benchmark_accounts SET removed_at = now()")


async def test_accounts_are_pulled_rolled_up_and_recorded_like_any_pull(
    pool: asyncpg.Pool, client: ScrapeCreatorsClient, fake_provider: FakeProvider
) -> None:
    await _quiet(pool)
    org = uuid4()
    turns: list[str] = []

    async def wait_turn() -> None:
        turns.append("waited")

    clock = {"now": utcnow()}
    puller = benchmarks.BenchmarkPuller(
        pool=lambda: pool,
        client=lambda: _ready(client),
        now=lambda: clock["now"],
        wait_turn=wait_turn,
    )
    ids = {
        "lumen": await _account(pool, org, "tiktok", "lumen.beauty"),
        "glow": await _account(pool, org, "instagram", "glow.co"),
        "unknown": await _account(pool, org, "tiktok", "unknown_brand"),
        "private": await _account(pool, org, "instagram", "private_house"),
        "gone": await _account(pool, org, "tiktok", "gone_brand"),
    }
    removed = BenchmarkAccountRemoved(id=ids["gone"], set_id=uuid4(), removed_at=utcnow())
    await benchmarks.on_account_event(pool, make_event(removed, org_id=org, producer="t"))

    assert await puller.pull_due() == 4
    assert len(turns) == 4  # each account waited for booked posts' pulls first
    assert await puller.pull_due() == 0  # once a day

    async with pool.acquire() as conn:
        found = {
            r["handle"]: r for r in await benchmarks.read_accounts(conn, org, list(ids.values()))
        }
    assert set(found) == {"lumen.beauty", "glow.co", "unknown_brand", "private_house"}
    assert found["unknown_brand"]["status"] == "unknown_handle"
    assert found["private_house"]["status"] == "private"
    assert found["private_house"]["median_views"] is None
    page_count: dict[str, int] = {}
    for handle, platform, path in (
        ("lumen.beauty", "tiktok", "/v3/tiktok/profile/videos"),
        ("glow.co", "instagram", "/v2/instagram/user/posts"),
    ):
        row = found[handle]
        assert row["status"] == "ok"
        pages = provider_pages(path, handle)
        page_count[handle] = len(pages)
        want = expected_rollup(platform, pages, clock["now"])
        assert want["posts_30d"] > 12  # more than one page: the pull followed the cursor
        last = pages[-1]["aweme_list" if platform == "tiktok" else "items"]
        oldest = min(it["create_time" if platform == "tiktok" else "taken_at"] for it in last)
        assert len(pages) == 4 or oldest <= (clock["now"] - timedelta(days=30)).timestamp()
        assert {k: row[k] for k in want} == want, handle
        assert row["followers"] > 0
        assert row["follower_growth_pct"] is None  # one day of history: no baseline yet

    # Hashtags and mentions of the accounts' window posts, against a plain reading of the
    # captions the provider sent (these captions are simple ASCII: a regex suffices).
    window_start = (clock["now"] - timedelta(days=30)).timestamp()
    sums: dict[tuple[str, str], list[int]] = {}
    for handle, platform, path in (
        ("lumen.beauty", "tiktok", "/v3/tiktok/profile/videos"),
        ("glow.co", "instagram", "/v2/instagram/user/posts"),
    ):
        seen_posts: set[str] = set()
        for body in provider_pages(path, handle):
            for it in body["aweme_list" if platform == "tiktok" else "items"]:
                pid = it["aweme_id" if platform == "tiktok" else "code"]
                ts = it["create_time" if platform == "tiktok" else "taken_at"]
                if pid in seen_posts or not window_start < ts <= clock["now"].timestamp():
                    continue
                seen_posts.add(pid)
                text = it["desc"] if platform == "tiktok" else it["caption"]["text"]
                if platform == "tiktok":
                    st = it["statistics"]
                    views = st["play_count"]
                    eng = st["digg_count"] + st["comment_count"] + st["share_count"]
                    eng += st["collect_count"]
                else:
                    views, eng = it["play_count"], it["like_count"] + it["comment_count"]
                tags = {("hashtag", t.lower()) for t in re.findall(r"#(\w+)", text)}
                tags |= {("mention", m.lower()) for m in re.findall(r"@([\w.]+)", text)}
                for key in tags:
                    acc = sums.setdefault(key, [0, 0, 0])
                    acc[0] += 1
                    acc[1] += views
                    acc[2] += eng
    async with pool.acquire() as conn:
        for kind in ("hashtag", "mention"):
            got = [
                dict(r)
                for r in await conn.fetch(
                    sql.benchmark_top_tags, org, [ids["lumen"], ids["glow"]], kind, 100
                )
            ]
            want = sorted(
                (
                    {"tag": tag, "posts": p, "views": v, "engagement": e}
                    for (k, tag), (p, v, e) in sums.items()
                    if k == kind
                ),
                key=lambda t: (-t["views"], -t["posts"], t["tag"]),
            )
            assert got == want, kind
            assert got

    runs = await pool.fetch(
        "SELECT post_id, reason, priority, credits, status FROM ingest.pull_runs WHERE org_id = $1",
        org,
    )
    assert {r["reason"] for r in runs} == {"benchmark"}
    assert {r["priority"] for r in runs} == {"low"}
    credits = {aid: sum(r["credits"] for r in runs if r["post_id"] == aid) for aid in ids.values()}
    # A public account costs its profile and each page of posts; unknown and private ones the
    # profile.
    assert credits == {
        ids["lumen"]: 1 + page_count["lumen.beauty"],
        ids["glow"]: 1 + page_count["glow.co"],
        ids["unknown"]: 1,
        ids["private"]: 1,
        ids["gone"]: 0,
    }

    # A day later the same accounts are due again, and growth has a baseline.
    fake_provider.control.post("/_control/advance", json={"seconds": 86400}).raise_for_status()
    before = found["lumen.beauty"]["followers"]
    clock["now"] += D
    assert await puller.pull_due() == 4
    async with pool.acquire() as conn:
        again = {r["handle"]: r for r in await benchmarks.read_accounts(conn, org, [ids["lumen"]])}
    now_followers = again["lumen.beauty"]["followers"]
    assert now_followers > before
    growth = _round(Decimal(now_followers) * 100 / Decimal(before) - 100)
    assert again["lumen.beauty"]["follower_growth_pct"] == growth
    assert again["lumen.beauty"]["growth_days"] == 1


async def test_test_and_paused_organizations_are_never_pulled(
    pool: asyncpg.Pool, client: ScrapeCreatorsClient
) -> None:
    await _quiet(pool)
    test_org, paused_org = uuid4(), uuid4()
    await pool.execute(
        "INSERT INTO ingest.organizations (id, name, is_test, updated_at) "
        "VALUES ($1, 'Test agency', true, now())",
        test_org,
    )
    await pool.execute(
        "INSERT INTO ingest.provider_state (org_id, paused_at, paused_reason, updated_at) "
        "VALUES ($1, now(), 'out of credits', now())",
        paused_org,
    )
    await _account(pool, test_org, "tiktok", "lumen.beauty")
    await _account(pool, paused_org, "tiktok", "lumen.beauty")

    async def wait_turn() -> None:
        return None

    puller = benchmarks.BenchmarkPuller(
        pool=lambda: pool, client=lambda: _ready(client), now=utcnow, wait_turn=wait_turn
    )
    assert await puller.pull_due() == 0


async def _ready(client: ScrapeCreatorsClient) -> ScrapeCreatorsClient:
    return client


async def test_a_removal_stops_the_pulls_in_any_order_and_on_any_replay(
    pool: asyncpg.Pool, client: ScrapeCreatorsClient
) -> None:
    """The gateway's events may arrive late, twice, or the removal before the account itself
    (two relays, a redelivery): whatever the order, a removed account is never pulled again."""
    await _quiet(pool)
    org = uuid4()
    set_id = uuid4()
    added_at = utcnow()

    def upserted(account_id: UUID, handle: str, at: datetime) -> Any:
        data = BenchmarkAccountUpserted(
            id=account_id, set_id=set_id, platform="tiktok", handle=handle, updated_at=at
        )
        return make_event(data, org_id=org, producer="gateway")

    def removed(account_id: UUID, at: datetime) -> Any:
        data = BenchmarkAccountRemoved(id=account_id, set_id=set_id, removed_at=at)
        return make_event(data, org_id=org, producer="gateway")

    kept, early, late = uuid4(), uuid4(), uuid4()
    assert await benchmarks.on_account_event(pool, upserted(kept, "lumen.beauty", added_at))
    # Removed before its upsert arrives: the upsert that follows does not bring it back.
    assert await benchmarks.on_account_event(pool, removed(early, added_at + D))
    assert await benchmarks.on_account_event(pool, upserted(early, "glow.co", added_at))
    # Added, removed, then the removal redelivered, a second removal (a set deleted later) and
    # an upsert newer than the removal (a stale relay): it stays removed.
    assert await benchmarks.on_account_event(pool, upserted(late, "northwind_studio", added_at))
    removal = removed(late, added_at + D)
    assert await benchmarks.on_account_event(pool, removal)
    assert not await benchmarks.on_account_event(pool, removal)
    assert await benchmarks.on_account_event(pool, removed(late, added_at + 2 * D))
    assert await benchmarks.on_account_event(
        pool, upserted(late, "northwind_studio", added_at + 3 * D)
    )

    async def wait_turn() -> None:
        return None

    puller = benchmarks.BenchmarkPuller(
        pool=lambda: pool, client=lambda: _ready(client), now=utcnow, wait_turn=wait_turn
    )
    assert await puller.pull_due() == 1  # the kept account alone
    assert await puller.pull_due() == 0
    async with pool.acquire() as conn:
        shown = await benchmarks.read_accounts(conn, org, [kept, early, late])
    assert [r["handle"] for r in shown] == ["lumen.beauty"]
    attempted = await pool.fetch(
        "SELECT id FROM ingest.benchmark_accounts"
        " WHERE org_id = $1 AND last_attempt_at IS NOT NULL",
        org,
    )
    assert [r["id"] for r in attempted] == [kept]
