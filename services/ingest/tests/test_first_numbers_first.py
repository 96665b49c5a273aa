"""A newly tracked post's first metrics pull never waits behind comments, and a burst of
registrations is pulled side by side up to each platform's configured concurrency. Ingest runs as
a process (one per test, each with its own settings) against the fake provider process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from services.ingest.tests.test_pulling import LOGS, create_tenant, post_url, register, until
from tests.support.scenario import Bus
from tests.support.servers import Servers
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration


@pytest.fixture
def start_ingest(pulling_env: dict[str, str]) -> Iterator[Callable[..., ServiceProcess]]:
    started: list[ServiceProcess] = []

    def start(**settings: str) -> ServiceProcess:
        env = {**pulling_env, **{f"PULSE_INGEST_{k.upper()}": v for k, v in settings.items()}}
        proc = ServiceProcess("ingest", env, LOGS)
        started.append(proc)
        proc.start()
        return proc

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()


@pytest.fixture
async def bus(servers: Servers) -> AsyncIterator[Bus]:
    async with Bus(servers.amqp_url) as connected:
        yield connected


@pytest.fixture
async def fake(fake_provider: Any, admin_db: asyncpg.Connection) -> Any:
    """A fresh fake, and no tracked post left from earlier tests to pull or read comments of."""
    await admin_db.execute(
        "UPDATE ingest.tracked_posts SET removed_at = now() WHERE removed_at IS NULL"
    )
    fake_provider.reset()
    return fake_provider


async def first_samples(db: asyncpg.Connection, post_ids: list[UUID]) -> int:
    return int(
        await db.fetchval(
            "SELECT count(DISTINCT p.id) FROM ingest.samples s "
            "JOIN ingest.tracked_posts p ON p.key = s.post_key WHERE p.id = ANY($1::uuid[])",
            post_ids,
        )
    )


async def comment_pulls(db: asyncpg.Connection, post_id: UUID) -> int:
    return int(
        await db.fetchval("SELECT count(*) FROM ingest.comment_pulls WHERE post_id = $1", post_id)
    )


async def test_a_new_posts_first_pull_does_not_wait_for_another_posts_comments(
    start_ingest: Callable[..., ServiceProcess],
    bus: Bus,
    fake: Any,
    admin_db: asyncpg.Connection,
) -> None:
    # One high-priority command at a time: if comments were part of a fetch command, the second
    # post's command could not even be delivered before the first post's comments were done.
    start_ingest(fetch_high_prefetch="1", comments_poll_s="3600")
    fake.behave(platform="tiktok", endpoint="comments", mode="slow", delay_ms=6000, times=5)
    t = await create_tenant(bus, admin_db)
    (first,) = await register(bus, t, ["tiktok"], url=post_url("tiktok"))

    async def first_comments_under_way() -> bool:
        stats: dict[str, Any] = fake.control.get("/_control/stats").json()
        return (
            await first_samples(admin_db, [first["id"]]) == 1 and stats["in_flight"]["tiktok"] >= 1
        )

    await until(first_comments_under_way, "the first post's comments fetch never started")

    (second,) = await register(bus, t, ["youtube"])

    async def second_pulled() -> bool:
        return await first_samples(admin_db, [second["id"]]) == 1

    await until(second_pulled, "the second post never got its first sample", timeout=5)
    assert await comment_pulls(admin_db, first["id"]) == 0, (
        "the second post's first numbers came while the first post's comments were still read"
    )
    # The comments do follow, at their own pace.
    await until(
        lambda: _has_comment_pull(admin_db, first["id"]),
        "the first post's comments were never read",
        timeout=20,
    )


async def _has_comment_pull(db: asyncpg.Connection, post_id: UUID) -> bool:
    return await comment_pulls(db, post_id) >= 1


async def test_a_burst_of_registrations_is_pulled_side_by_side_up_to_the_platform_limit(
    start_ingest: Callable[..., ServiceProcess],
    bus: Bus,
    fake: Any,
    admin_db: asyncpg.Connection,
) -> None:
    start_ingest(provider_concurrency_tiktok="3", comments_enabled="false")
    # Every TikTok answer takes 300 ms: one after the other, twelve would take 3.6 s.
    fake.behave(platform="tiktok", mode="slow", delay_ms=300, times=100)
    t = await create_tenant(bus, admin_db)
    posts = await register(bus, t, ["tiktok"] * 12)
    ids = [p["id"] for p in posts]

    async def all_first_samples() -> bool:
        return await first_samples(admin_db, ids) == len(ids)

    await until(all_first_samples, "not every registered post got its first sample", timeout=30)
    stats: dict[str, Any] = fake.control.get("/_control/stats").json()
    assert stats["max_in_flight"]["tiktok"] == 3, "pulled side by side, up to the limit"
    runs = await admin_db.fetch(
        "SELECT priority, reason, status FROM ingest.pull_runs WHERE post_id = ANY($1::uuid[])",
        ids,
    )
    assert len(runs) == len(ids)
    assert {(r["priority"], r["reason"], r["status"]) for r in runs} == {
        ("high", "start_tracking", "ok")
    }
    fake.behave(platform="tiktok", mode="ok")
