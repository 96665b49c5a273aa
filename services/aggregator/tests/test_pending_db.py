"""The queue of pending samples on real PostgreSQL: take_pending reduces it to one close per post
and UTC day by the SQL twin of domain.newer, which must pick exactly the point newer picks,
ties included (same observed_at with other counters, n/a against 0, estimated or not)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulse_aggregator import repository
from pulse_aggregator.inputs import Point, day_of, newer
from pulse_runtime.db import create_pool
from tests.support.servers import Servers
from tests.support.services import settings_for

pytestmark = pytest.mark.integration
BASE = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # an hour before midnight: days split
POSTS = [UUID(int=0x900 + i) for i in range(3)]


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(settings_for("aggregator", servers).dsn)
    yield created
    await created.close()


counter = st.none() | st.integers(0, 1)
points = st.builds(
    Point,
    post_id=st.sampled_from(POSTS),
    # Few distinct instants, so equal observed_at with different counters is common.
    observed_at=st.builds(
        lambda minutes, hours: (BASE + timedelta(minutes=minutes)).astimezone(
            timezone(timedelta(hours=hours))
        ),
        st.sampled_from([0, 30, 59, 60, 61, 90]),
        st.integers(-3, 3),
    ),
    views=counter,
    likes=counter,
    comments=counter,
    shares=counter,
    saves=counter,
    reach=counter,
    estimated=st.booleans(),
)


async def _queue(conn: asyncpg.Connection, campaign_id: UUID, batch: list[Point]) -> None:
    await conn.executemany(
        "INSERT INTO aggregator.pending_closes (campaign_id, post_id, observed_at, views, likes,"
        " comments, shares, saves, reach, estimated)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        [
            (
                campaign_id,
                p.post_id,
                p.observed_at,
                p.views,
                p.likes,
                p.comments,
                p.shares,
                p.saves,
                p.reach,
                p.estimated,
            )
            for p in batch
        ],
    )


_FIELDS = ("views", "likes", "comments", "shares", "saves", "reach")


@st.composite
def batches(draw: st.DrawFn) -> list[Point]:
    """Points, and near twins of them: one field changed, so every tie-break gets its turn."""
    found = draw(st.lists(points, min_size=1, max_size=12))
    for _ in range(draw(st.integers(0, 12))):
        twin = draw(st.sampled_from(found))
        field = draw(st.sampled_from([*_FIELDS, "estimated"]))
        value = draw(st.booleans() if field == "estimated" else counter)
        found.append(dataclasses.replace(twin, **{field: value}))
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=batches())
async def test_take_pending_keeps_what_newer_keeps(pool: asyncpg.Pool, batch: list[Point]) -> None:
    expected: dict[tuple[UUID, object], Point] = {}
    for p in batch:
        key = (p.post_id, day_of(p.observed_at))
        if key not in expected or newer(p, expected[key]):
            expected[key] = p
    campaign_id = uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await _queue(conn, campaign_id, batch)
        taken = await repository.take_pending(conn, campaign_id)
        assert await repository.take_pending(conn, campaign_id) == []  # taken means gone
    got = {(p.post_id, day_of(p.observed_at)): p for p in taken}
    assert len(got) == len(taken)
    # Compared as the domain sees them: the same instant, counters and flag.
    assert {k: (p.observed_at, *_counters(p)) for k, p in got.items()} == {
        k: (p.observed_at, *_counters(p)) for k, p in expected.items()
    }


def _counters(p: Point) -> tuple[object, ...]:
    return (p.views, p.likes, p.comments, p.shares, p.saves, p.reach, p.estimated)
