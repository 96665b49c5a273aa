"""Batches as ingest stores them, on real PostgreSQL (no process): the samples a batch becomes, the
post.pulled messages it leaves in the outbox (each a valid contract envelope of at most 1000
samples), several batches in one transaction keeping their own outcomes, and the counter ranges.
Every test runs inside a transaction that is rolled back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from pulse_contracts import parse_event
from pulse_contracts.posts import PostPulled
from pulse_ingest import handlers
from pulse_ingest.domain import INT4_MAX, Candidate, Rejection, prepare, prepare_all
from tests.support.scenario import fixtures_dir

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
TIKTOK = json.loads((fixtures_dir() / "tiktok_video.json").read_text())
FIXTURE_ID = TIKTOK["aweme_detail"]["aweme_id"]


@pytest.fixture
async def db(admin_db: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    # The JSON codecs ingest's pool sets on its connections (pulse_runtime.db).
    for kind in ("json", "jsonb"):
        await admin_db.set_type_codec(
            kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    tx = admin_db.transaction()
    await tx.start()
    try:
        yield admin_db
    finally:
        await tx.rollback()


async def track(
    db: asyncpg.Connection, org_id: UUID, *, ppid: str, platform: str = "tiktok"
) -> UUID:
    post_id = uuid4()
    await db.execute(
        "INSERT INTO ingest.tracked_posts (id, org_id, booking_id, campaign_id, platform, url, "
        "platform_post_id, registered_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now())",
        post_id,
        org_id,
        uuid4(),
        uuid4(),
        platform,
        f"https://www.tiktok.com/@pulse/video/{ppid}",
        ppid,
    )
    return post_id


def item(ref: dict[str, Any], minutes_ago: float, views: int = 1000, **metrics: Any) -> Any:
    at = NOW - timedelta(minutes=minutes_ago)
    return {
        **ref,
        "observed_at": at.isoformat().replace("+00:00", "Z"),
        "metrics": {"views": views, "likes": 10, "comments": 1, **metrics},
    }


async def pulled_in_outbox(db: asyncpg.Connection) -> list[Any]:
    rows = await db.fetch(
        "SELECT routing_key, body FROM ingest.outbox WHERE routing_key = 'post.pulled' ORDER BY id"
    )
    return [parse_event(bytes(r["body"])) for r in rows]


async def stored(db: asyncpg.Connection, post_id: UUID) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT s.* FROM ingest.samples s JOIN ingest.tracked_posts p ON p.key = s.post_key "
            "WHERE p.id = $1 ORDER BY s.observed_at",
            post_id,
        )
    )


async def store(db: asyncpg.Connection, org_id: UUID, items: list[Any]) -> handlers.IngestResult:
    return await handlers.store_items(
        db, org_id=org_id, items=items, source="http", now=NOW, correlation_id="req-1"
    )


async def test_a_batch_of_more_than_1000_new_samples_is_split_into_valid_post_pulled(
    db: asyncpg.Connection,
) -> None:
    """One public post booked in two campaigns: 1000 items become 2000 samples, published as
    two post.pulled of 1000 (the contract's bound); the post facts of the raw provider body ride
    along once per tracked post."""
    org_id = uuid4()
    first = await track(db, org_id, ppid=FIXTURE_ID)
    second = await track(db, org_id, ppid=FIXTURE_ID)
    items = [item({"platform_post_id": FIXTURE_ID}, 600 + i, views=i) for i in range(999)]
    items.append({"observed_at": NOW.isoformat(), "raw": TIKTOK})

    result = await store(db, org_id, items)

    assert (result.accepted, result.duplicates, result.rejected) == (2000, 0, [])
    events = await pulled_in_outbox(db)
    assert [len(e.data.samples) for e in events] == [1000, 1000]
    for event in events:
        assert isinstance(event.data, PostPulled)
        assert event.type == "post.pulled"
        assert event.org_id == org_id
        assert event.producer == "ingest"
        assert event.correlation_id == "req-1"
    samples = [s for e in events for s in e.data.samples]
    rows = {post: await stored(db, post) for post in (first, second)}
    assert sorted((s.post_id, s.observed_at, s.views) for s in samples) == sorted(
        (post, r["observed_at"], r["views"]) for post in rows for r in rows[post]
    )
    assert {s.source for s in samples} == {"http"}
    facts = [f for e in events for f in e.data.posts]
    assert sorted(f.post_id for f in facts) == sorted([first, second])
    assert all(f.posted_at is not None and f.caption for f in facts)


async def test_the_stored_samples_and_the_event_carry_the_same_numbers(
    db: asyncpg.Connection,
) -> None:
    org_id = uuid4()
    post = await track(db, org_id, ppid="7400000000000000001")
    big_views = 3_000_000_000  # views stay bigint: the most-watched videos pass 2^31
    items = [
        item({"post_id": str(post)}, 30, views=big_views, shares=None, saves=7, reach=None),
        {**item({"post_id": str(post)}, 20, views=5), "estimated": True},
    ]
    result = await store(db, org_id, items)
    assert result.accepted == 2
    rows = await stored(db, post)
    assert [(r["views"], r["likes"], r["shares"], r["saves"], r["reach"]) for r in rows] == [
        (big_views, 10, None, 7, None),
        (5, 10, None, None, None),
    ]
    assert [r["estimated"] for r in rows] == [False, True]
    (event,) = await pulled_in_outbox(db)
    assert [(s.views, s.saves, s.estimated) for s in event.data.samples] == [
        (big_views, 7, False),
        (5, None, True),
    ]


async def test_several_batches_in_one_transaction_keep_their_own_outcomes(
    db: asyncpg.Connection,
) -> None:
    """What AMQP batching relies on: each batch is answered as if it had come alone, in order."""
    org_id = uuid4()
    post = await track(db, org_id, ppid="7400000000000000002")
    ref = {"post_id": str(post)}
    first_batch = [item(ref, 30, views=1), item(ref, 20, views=2)]
    second_batch = [
        item(ref, 30, views=1),  # the first batch's sample: a duplicate here
        item({"platform_post_id": "nobody"}, 10),
        {"metrics": {"views": -1}, "post_id": str(post)},
        item(ref, 5, views=3),
    ]
    one, two = await handlers.store_batches(
        db,
        org_id=org_id,
        batches=[(first_batch, "msg-1"), (second_batch, "msg-2")],
        source="amqp",
        now=NOW,
    )
    assert (one.accepted, one.duplicates, one.rejected) == (2, 0, [])
    assert (two.accepted, two.duplicates) == (1, 1)
    assert [(r.index, r.code) for r in two.rejected] == [(1, "unknown_post"), (2, "invalid_item")]
    assert [r["views"] for r in await stored(db, post)] == [1, 2, 3]
    events = await pulled_in_outbox(db)
    assert [(e.correlation_id, len(e.data.samples)) for e in events] == [("msg-1", 2), ("msg-2", 1)]
    kept = await db.fetch(
        "SELECT item_index, code, channel, raw FROM ingest.rejected_items WHERE org_id = $1 "
        "ORDER BY item_index",
        org_id,
    )
    assert [(r["item_index"], r["code"], r["channel"]) for r in kept] == [
        (1, "unknown_post", "amqp"),
        (2, "invalid_item", "amqp"),
    ]
    assert kept[1]["raw"] == second_batch[2], "kept exactly as sent"


async def test_a_batch_with_nothing_new_publishes_nothing(db: asyncpg.Connection) -> None:
    org_id = uuid4()
    post = await track(db, org_id, ppid="7400000000000000003")
    items = [item({"post_id": str(post)}, 30)]
    assert (await store(db, org_id, items)).accepted == 1
    again = await store(db, org_id, items)
    assert (again.accepted, again.duplicates) == (0, 1)
    assert len(await pulled_in_outbox(db)) == 1


# --- validation (pure) -----------------------------------------------------------------------


def test_likes_and_reach_above_int4_are_refused_views_are_not() -> None:
    ref = {"post_id": str(uuid4()), "observed_at": "2026-11-20T10:00:00Z"}
    for name in ("likes", "comments", "shares", "saves", "reach"):
        refused = prepare(0, {**ref, "metrics": {"views": 1, name: INT4_MAX + 1}}, NOW)
        assert isinstance(refused, Rejection), name
        assert refused.code == "counter_out_of_range"
        assert name in refused.message
        kept = prepare(0, {**ref, "metrics": {"views": 1, name: INT4_MAX}}, NOW)
        assert isinstance(kept, Candidate), name
    assert isinstance(prepare(0, {**ref, "metrics": {"views": 10**12}}, NOW), Candidate)


def test_a_batch_is_judged_exactly_as_its_items_one_by_one() -> None:
    """The one-pass validation of a batch gives each item the outcome it gets alone."""
    post = str(uuid4())
    items: list[Any] = [
        {"post_id": post, "metrics": {"views": 1}, "observed_at": "2026-11-20T10:00:00Z"},
        {"post_id": post, "metrics": {"views": 2}, "observed_at": "2026-11-20T10:00:00+02:00"},
        "not an object",
        {"post_id": post, "metrics": {"views": 3, "likes": INT4_MAX + 1}},
        {"post_id": "not-a-uuid", "metrics": {"views": 4}},
        {"metrics": {"views": 5}},
        {"post_id": post, "metrics": {"views": 6}, "surprise": True},
        {"post_id": post},  # no metrics, no raw: read as a bare Facebook body (its post_id)
        {"platform_post_id": FIXTURE_ID, "raw": TIKTOK},
        TIKTOK,
    ]
    alone = [prepare(i, it, NOW) for i, it in enumerate(items)]
    candidates, rejections = prepare_all(items, NOW)
    assert candidates == [p for p in alone if isinstance(p, Candidate)]
    assert rejections == [p for p in alone if isinstance(p, Rejection)]
    assert [r.index for r in rejections] == [2, 3, 4, 5, 6]
    # And a batch with no invalid item (the one-pass path) agrees too.
    valid = [items[i] for i in (0, 1, 8, 9)]
    assert prepare_all(valid, NOW)[0] == [prepare(i, it, NOW) for i, it in enumerate(valid)]
