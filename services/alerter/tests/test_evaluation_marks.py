"""The subscribers' path on real PostgreSQL: events only note and mark, and one evaluation per
campaign follows a burst. Whatever the burst and however passes overlap, each debounce key holds
at most one open alert and is raised once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from pulse_alerter import evaluation, handlers, repository
from pulse_alerter.messages import Numbers
from pulse_contracts import Envelope, make_event
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    LatestCounters,
    PostNumbers,
)
from pulse_contracts.posts import PostCommentsScored
from pulse_runtime.db import create_pool
from tests.support.servers import Servers
from tests.support.services import settings_for

pytestmark = pytest.mark.integration
START, END = date(2026, 11, 1), date(2026, 11, 10)
LATE = datetime(2026, 11, 10, 14, tzinfo=UTC)  # 96% of the timeline: the critical milestone


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(settings_for("alerter", servers).dsn)
    yield created
    await created.close()


class Campaign:
    def __init__(self, bookings: int = 3, posts_per_booking: int = 4) -> None:
        self.org_id, self.id = uuid4(), uuid4()
        self.bookings = [uuid4() for _ in range(bookings)]
        self.posts = [(b, uuid4()) for b in self.bookings for _ in range(posts_per_booking)]

    def doc(self, step: int) -> CampaignNumbers:
        """Every booking under its KPI; the first post far above the others (viral)."""
        as_of = LATE - timedelta(minutes=100 - step)
        return CampaignNumbers(
            campaign=CampaignFigures(
                campaign_id=self.id,
                name="Burst",
                status="live",
                start_date=START,
                end_date=END,
                kpi_pct=20.0 + step / 100,
            ),
            bookings=[
                BookingNumbers(booking_id=b, influencer_id=uuid4(), kpi_pct=10.0 + step / 100)
                for b in self.bookings
            ],
            posts=[
                PostNumbers(
                    post_id=p,
                    booking_id=b,
                    platform="tiktok",
                    latest=LatestCounters(
                        observed_at=as_of,
                        views=(900_000 if i == 0 else 10_000) + step,
                        engagement=0,
                    ),
                )
                for i, (b, p) in enumerate(self.posts)
            ],
            as_of=as_of,
        )

    def scored(self, step: int) -> list[PostCommentsScored]:
        """Each post's comments scored, too few to judge: events that mark, raising nothing."""
        return [
            PostCommentsScored(
                post_id=p,
                booking_id=b,
                campaign_id=self.id,
                platform="tiktok",
                analysed=10 + step,
                positive=10 + step,
                neutral=0,
                negative=0,
                scored_at=LATE - timedelta(minutes=100 - step),
            )
            for b, p in self.posts
        ]

    def expected_keys(self) -> set[str]:
        return (
            {f"under_kpi:campaign:{self.id}:95"}
            | {f"under_kpi:booking:{b}:95" for b in self.bookings}
            | {f"viral:post:{self.posts[0][1]}"}
        )


async def _burst(
    pool: asyncpg.Pool, c: Campaign, steps: int, held: repository.HeldNumbers | None = None
) -> None:
    """Documents and post events in any order, each delivered twice, concurrently; `held`: the
    decoded documents of the replica that notes them."""
    envelopes: list[Envelope[Any]] = [
        make_event(c.doc(i), org_id=c.org_id, producer="aggregator") for i in range(steps)
    ]
    envelopes += [
        make_event(scored, org_id=c.org_id, producer="ingest")
        for i in range(steps)
        for scored in c.scored(i)
    ]
    envelopes.reverse()

    async def note(envelope: Envelope[Any]) -> None:
        if envelope.type == "kpi.updated":
            await handlers.note_kpi_updated(pool, envelope, held)
        else:
            await handlers.note_post_event(pool, envelope)

    await asyncio.gather(*(note(e) for e in envelopes + envelopes))


async def _raised(pool: asyncpg.Pool, c: Campaign) -> Counter[str]:
    rows = await pool.fetch(
        "SELECT convert_from(body, 'UTF8')::jsonb -> 'data' ->> 'debounce_key' AS key "
        "FROM alerter.outbox WHERE routing_key = 'alert.raised' "
        "AND convert_from(body, 'UTF8')::jsonb -> 'data' ->> 'campaign_id' = $1",
        str(c.id),
    )
    return Counter(r["key"] for r in rows)


async def _open(pool: asyncpg.Pool, c: Campaign) -> Counter[str]:
    rows = await pool.fetch(
        "SELECT debounce_key FROM alerter.alerts WHERE campaign_id = $1 AND status = 'open'", c.id
    )
    return Counter(r["debounce_key"] for r in rows)


async def _marked(pool: asyncpg.Pool, campaign_id: UUID) -> bool:
    async with pool.acquire() as conn:
        return await repository.dirty_mark(conn, campaign_id) is not None


def _replica(holds: bool) -> repository.HeldNumbers | None:
    """A replica's decoded documents, as its consumer keeps them, or none (every load decodes)."""
    return repository.HeldNumbers() if holds else None


@pytest.mark.parametrize("holds", [False, True], ids=["loaded", "held"])
async def test_a_burst_is_evaluated_once_and_each_key_raised_once(
    pool: asyncpg.Pool, holds: bool
) -> None:
    c = Campaign()
    held = _replica(holds)
    await _burst(pool, c, steps=8, held=held)
    assert await _marked(pool, c.id)
    # The pass evaluates the newest document only (the burst's as_of order, not arrival order).
    assert await evaluation.evaluate_marked(pool, now=lambda: LATE, held=held) == len(
        c.expected_keys()
    )
    assert not await _marked(pool, c.id)
    assert await _raised(pool, c) == Counter(c.expected_keys())
    assert await _open(pool, c) == Counter(c.expected_keys())
    # Nothing marked, nothing to do; a later repeat of the same state only touches.
    assert await evaluation.evaluate_marked(pool, now=lambda: LATE, held=held) == 0
    await _burst(pool, c, steps=3, held=held)
    later = LATE + timedelta(minutes=1)
    assert await evaluation.evaluate_marked(pool, now=lambda: later, held=held) == 0
    assert await _raised(pool, c) == Counter(c.expected_keys())
    last_seen = await pool.fetch(
        "SELECT DISTINCT last_seen_at FROM alerter.alerts WHERE campaign_id = $1", c.id
    )
    assert [r["last_seen_at"] for r in last_seen] == [LATE + timedelta(minutes=1)]


@pytest.mark.parametrize("holds", [False, True], ids=["loaded", "held"])
async def test_overlapping_passes_and_immediate_evaluations_keep_keys_unique(
    pool: asyncpg.Pool, holds: bool
) -> None:
    campaigns = [Campaign(bookings=2, posts_per_booking=3) for _ in range(4)]
    one, other = _replica(holds), _replica(holds)
    # Two replicas note the documents, each some of them.
    await asyncio.gather(
        *(_burst(pool, c, steps=4, held=one if i % 2 else other) for i, c in enumerate(campaigns))
    )
    # Two replicas' passes and a handler evaluating at once, all over the same marks.
    await asyncio.gather(
        evaluation.evaluate_marked(pool, now=lambda: LATE, held=one),
        evaluation.evaluate_marked(pool, now=lambda: LATE, held=other),
        evaluation.evaluate_now(pool, [c.id for c in campaigns], now=LATE),
    )
    # A pass that skipped a campaign held elsewhere leaves its mark for the next one.
    await evaluation.evaluate_marked(pool, now=lambda: LATE, held=one)
    for c in campaigns:
        assert await _raised(pool, c) == Counter(c.expected_keys())
        assert await _open(pool, c) == Counter(c.expected_keys())
        assert not await _marked(pool, c.id)


async def test_a_campaign_held_by_another_evaluation_keeps_its_mark(pool: asyncpg.Pool) -> None:
    c = Campaign(bookings=1, posts_per_booking=1)
    await handlers.note_kpi_updated(
        pool, make_event(c.doc(1), org_id=c.org_id, producer="aggregator")
    )
    async with pool.acquire() as other, other.transaction():
        await repository.lock_campaign(other, c.id)
        assert await evaluation.evaluate_marked(pool, now=lambda: LATE) == 0
    assert await _marked(pool, c.id)
    assert await evaluation.evaluate_marked(pool, now=lambda: LATE) == 2
    assert not await _marked(pool, c.id)


async def test_a_mark_made_during_an_evaluation_survives_it(pool: asyncpg.Pool) -> None:
    c = Campaign(bookings=1, posts_per_booking=1)
    await handlers.note_kpi_updated(
        pool, make_event(c.doc(1), org_id=c.org_id, producer="aggregator")
    )
    async with pool.acquire() as conn:
        seen = await repository.dirty_mark(conn, c.id)
        assert seen is not None
        # An event lands after the evaluation read the mark: clearing the old one keeps it.
        await handlers.note_kpi_updated(
            pool, make_event(c.doc(2), org_id=c.org_id, producer="aggregator")
        )
        await repository.clear_dirty(conn, seen)
        again = await repository.dirty_mark(conn, c.id)
    assert again is not None
    assert again.seq > seen.seq


def _as_of(doc: Numbers | None) -> datetime | None:
    return doc.as_of if doc is not None else None


def _calm(doc: CampaignNumbers) -> CampaignNumbers:
    """The same document with its viral post back among the others."""
    return doc.model_copy(
        update={
            "posts": [
                p.model_copy(
                    update={"latest": p.latest.model_copy(update={"views": 10_000})}
                    if p.latest is not None
                    else {}
                )
                for p in doc.posts
            ]
        }
    )


async def test_a_held_document_stands_in_for_the_kept_one_only_while_it_is_that_one(
    pool: asyncpg.Pool,
) -> None:
    c = Campaign(bookings=2, posts_per_booking=4)
    viral = f"viral:post:{c.posts[0][1]}"
    held = repository.HeldNumbers()
    old, first, newer = c.doc(0), c.doc(1), _calm(c.doc(2))

    async def note(doc: CampaignNumbers, into: repository.HeldNumbers | None) -> None:
        await handlers.note_kpi_updated(
            pool, make_event(doc, org_id=c.org_id, producer="aggregator"), into
        )

    await note(first, held)
    # The kept row now says something else under the same as_of: only the held copy can make
    # the post viral, so the alert shows the evaluation did not decode the row again.
    await pool.execute(
        "UPDATE alerter.campaign_numbers SET document = $2::text::json WHERE campaign_id = $1",
        c.id,
        _calm(first).model_dump_json(),
    )
    await evaluation.evaluate_marked(pool, now=lambda: LATE, held=held)
    assert viral in await _open(pool, c)

    # Another replica keeps a newer document: the held one is no longer the row, so it is read.
    await note(newer, None)
    await evaluation.evaluate_marked(pool, now=lambda: LATE, held=held)
    assert viral not in await _open(pool, c)
    assert _as_of(held.get(c.id)) == newer.as_of  # what was read is held in turn

    # An older document arriving late is not kept, so it is not held either.
    await note(old, held)
    assert _as_of(held.get(c.id)) == newer.as_of
    await evaluation.evaluate_marked(pool, now=lambda: LATE, held=held)
    assert viral not in await _open(pool, c)


def test_held_documents_are_the_campaigns_seen_last() -> None:
    held = repository.HeldNumbers(capacity=2)
    first, second, third = Campaign(), Campaign(), Campaign()
    newer = first.doc(2)
    held.hold(first.doc(1))
    held.hold(second.doc(1))
    held.hold(newer)  # first is now the most recent
    held.hold(last := third.doc(1))
    assert len(held) == 2
    assert held.get(second.id) is None
    assert [held.get(c.id) for c in (first, third)] == [newer, last]
