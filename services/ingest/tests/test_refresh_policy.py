"""The refresh policy of design/events.md as a table: intervals by age at and around every
boundary, the campaign end + 7 days cut-off, deleted posts, never-pulled organizations and
platforms, pending commands, and platform-sized batches."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from pulse_contracts.values import Platform
from pulse_ingest.priority import PriorityGate
from pulse_ingest.scheduler import (
    DEFAULT_BATCH_SIZES,
    Clock,
    PostSchedule,
    batch_sizes,
    decide,
    due_posts,
    plan_batches,
    pull_until,
    refresh_interval,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
S = timedelta(seconds=1)
H = timedelta(hours=1)
D = timedelta(days=1)
ORG = UUID("00000000-0000-0000-0000-0000000000aa")


def post(
    *,
    age: timedelta = 2 * H,
    since_success: timedelta | None = None,
    platform: Platform = "tiktok",
    posted: bool = True,
    org: UUID = ORG,
    **fields: object,
) -> PostSchedule:
    """A post `age` old whose last success was `since_success` ago (None: never pulled)."""
    base = PostSchedule(
        post_id=uuid4(),
        org_id=org,
        platform=platform,
        url=f"https://www.tiktok.com/@a/video/{uuid4().int % 10**19}",
        registered_at=NOW - age if not posted else NOW - 30 * D,
        posted_at=NOW - age if posted else None,
        last_success_at=None if since_success is None else NOW - since_success,
        last_attempt_at=None if since_success is None else NOW - since_success,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


# --- intervals by age ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "interval"),
    [
        (timedelta(0), H),
        (24 * H - S, H),
        (24 * H, 3 * H),
        (24 * H + S, 3 * H),
        (7 * D - S, 3 * H),
        (7 * D, 12 * H),
        (7 * D + S, 12 * H),
        (30 * D - S, 12 * H),
        (30 * D, 24 * H),
        (30 * D + S, 24 * H),
        (400 * D, 24 * H),
    ],
)
def test_interval_by_age_at_every_boundary(age: timedelta, interval: timedelta) -> None:
    assert refresh_interval(age) == interval


@pytest.mark.parametrize(
    ("age", "interval"),
    [
        (2 * H, H),
        (24 * H - S, H),
        (24 * H, 3 * H),
        (3 * D, 3 * H),
        (7 * D - S, 3 * H),
        (7 * D, 12 * H),
        (30 * D - S, 12 * H),
        (30 * D, 24 * H),
        (90 * D, 24 * H),
    ],
)
def test_due_exactly_once_the_interval_has_passed(age: timedelta, interval: timedelta) -> None:
    assert decide(post(age=age, since_success=interval - S), NOW).reason == "fresh"
    assert decide(post(age=age, since_success=interval), NOW).due
    assert decide(post(age=age, since_success=interval + S), NOW).due


def test_age_counts_from_registration_while_posted_at_is_unknown() -> None:
    # Registered 2 days ago, posted_at unknown: 3 h interval, not 1 h.
    p = post(age=2 * D, posted=False, since_success=2 * H)
    assert p.posted_at is None
    assert decide(p, NOW).reason == "fresh"
    assert decide(replace(p, last_success_at=NOW - 3 * H), NOW).due
    # posted_at known and recent wins over an old registration.
    assert decide(replace(p, posted_at=NOW - 5 * H), NOW).due


def test_a_post_never_pulled_is_due_at_once() -> None:
    assert decide(post(since_success=None), NOW).reason == "never_pulled"


# --- campaign end date ----------------------------------------------------------------------


def test_pulling_stops_seven_days_after_the_campaigns_end_date() -> None:
    end = date(2026, 11, 10)
    stop = datetime(2026, 11, 18, tzinfo=UTC)  # the 7th full day after the 10th is the 17th
    assert pull_until(end) == stop
    p = post(age=40 * D, campaign_end_date=end, last_success_at=stop - 3 * D)
    assert decide(p, stop - S).due
    assert decide(p, stop).reason == "campaign_over"
    assert decide(p, stop + S).reason == "campaign_over"
    # Campaign still running, or no end date known yet: pulled.
    assert decide(replace(p, campaign_end_date=date(2026, 12, 1)), stop + D).due
    assert decide(replace(p, campaign_end_date=None), stop + D).due


def test_posts_of_a_deleted_campaign_are_not_pulled() -> None:
    assert decide(post(since_success=5 * H, campaign_deleted=True), NOW).reason == (
        "campaign_deleted"
    )


# --- never pulled -----------------------------------------------------------------------------


def test_platform_other_test_orgs_and_paused_orgs_are_never_pulled() -> None:
    stale = post(since_success=10 * D, age=20 * D)
    assert decide(stale, NOW).due
    assert decide(replace(stale, platform="other"), NOW).reason == "platform_not_pulled"
    assert decide(replace(stale, org_is_test=True), NOW).reason == "test_org"
    assert decide(replace(stale, org_paused=True), NOW).reason == "paused"
    assert decide(replace(stale, removed=True), NOW).reason == "removed"
    assert decide(replace(stale, deleted_at=NOW - D), NOW).reason == "deleted"
    # Never pulled is no exception to any of these.
    for blocked in (
        replace(stale, last_success_at=None, platform="other"),
        replace(stale, last_success_at=None, org_is_test=True),
        replace(stale, last_success_at=None, org_paused=True),
    ):
        assert not decide(blocked, NOW).due


# --- pending commands and failures ------------------------------------------------------------


def test_a_pending_post_is_not_enqueued_again_until_the_queue_timeout() -> None:
    p = post(since_success=5 * H, queued_at=NOW - 10 * 60 * S)
    assert decide(p, NOW).reason == "queued"
    assert decide(p, NOW, queue_timeout=timedelta(minutes=10)).due
    assert decide(replace(p, queued_at=NOW - 31 * 60 * S), NOW).due


def test_a_failing_post_waits_before_it_is_tried_again() -> None:
    p = post(since_success=5 * H, consecutive_failures=2, last_attempt_at=NOW - 10 * 60 * S)
    assert decide(p, NOW).reason == "failure_backoff"
    assert decide(replace(p, last_attempt_at=NOW - 15 * 60 * S), NOW).due


# --- deleted posts ---------------------------------------------------------------------------


def test_a_post_reported_deleted_is_rechecked_once_a_day() -> None:
    seen = NOW - 3 * D
    p = post(
        age=2 * H,  # young: would otherwise be due every hour
        since_success=4 * D,
        deleted_seen_at=seen,
        last_attempt_at=NOW - 23 * H,
        consecutive_failures=3,
    )
    assert decide(p, NOW).reason == "deleted_recheck_wait"
    assert decide(replace(p, last_attempt_at=NOW - 24 * H), NOW).reason == "deleted_recheck"
    assert decide(replace(p, deleted_at=NOW), NOW).reason == "deleted"


# --- batches ---------------------------------------------------------------------------------


def test_default_batch_sizes() -> None:
    assert dict(DEFAULT_BATCH_SIZES) == {"tiktok": 10, "instagram": 5, "youtube": 15, "facebook": 5}
    assert batch_sizes({"tiktok": 4, "other": 9}) == {
        "tiktok": 4,
        "instagram": 5,
        "youtube": 15,
        "facebook": 5,
    }
    assert batch_sizes({"youtube": 1000, "facebook": 0})["youtube"] == 100
    assert batch_sizes({"facebook": 0})["facebook"] == 1


@pytest.mark.parametrize(
    ("platform", "count", "sizes"),
    [
        ("tiktok", 23, [10, 10, 3]),
        ("tiktok", 10, [10]),
        ("instagram", 11, [5, 5, 1]),
        ("youtube", 31, [15, 15, 1]),
        ("facebook", 5, [5]),
        ("facebook", 6, [5, 1]),
    ],
)
def test_batches_are_platform_sized(platform: Platform, count: int, sizes: list[int]) -> None:
    posts = [post(platform=platform, since_success=2 * H) for _ in range(count)]
    batches = plan_batches(posts)
    assert [len(b.posts) for b in batches] == sizes
    assert {b.platform for b in batches} == {platform}
    assert [p for b in batches for p in b.posts] == posts


def test_batches_never_mix_organizations_or_platforms() -> None:
    other_org = uuid4()
    posts = [
        *[post(platform="tiktok", since_success=2 * H) for _ in range(3)],
        *[post(platform="tiktok", since_success=2 * H, org=other_org) for _ in range(2)],
        *[post(platform="youtube", since_success=2 * H) for _ in range(2)],
    ]
    batches = plan_batches(posts, {"tiktok": 2, "youtube": 15})
    groups = sorted((str(b.org_id), b.platform, len(b.posts)) for b in batches)
    assert groups == sorted(
        [
            (str(ORG), "tiktok", 2),
            (str(ORG), "tiktok", 1),
            (str(other_org), "tiktok", 2),
            (str(ORG), "youtube", 2),
        ]
    )


def test_due_posts_come_stalest_first_and_respect_the_limit() -> None:
    fresh = post(since_success=10 * 60 * S)
    old = post(since_success=5 * H)
    older = post(since_success=9 * H)
    never = post(since_success=None)
    assert due_posts([fresh, old, never, older], NOW) == [never, older, old]
    assert due_posts([fresh, old, never, older], NOW, limit=2) == [never, older]


def test_the_clock_is_wall_time_plus_an_offset() -> None:
    clock = Clock()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    clock.set_offset(86400)
    assert abs(clock.now() - datetime.now(UTC) - D) < timedelta(seconds=1)


# --- high before low -------------------------------------------------------------------------


async def test_low_waits_while_high_is_in_hand_or_waiting_on_the_broker() -> None:
    backlog = [2]

    async def high_backlog() -> int:
        return backlog[0]

    gate = PriorityGate(high_backlog, poll_s=0.01)
    order: list[str] = []

    async def low() -> None:
        await gate.wait_turn()
        order.append("low")

    async def high() -> None:
        async with gate.high():
            await asyncio.sleep(0.05)
            order.append("high")

    waiting = asyncio.create_task(low())
    await asyncio.sleep(0.05)
    assert order == []  # two high commands still on the broker
    running = asyncio.create_task(high())
    await asyncio.sleep(0)  # the high command is in hand before the broker backlog clears
    backlog[0] = 0
    await asyncio.gather(waiting, running)
    assert order == ["high", "low"]
    assert gate.waited == 1

    # Nothing high anywhere: no wait.
    await asyncio.wait_for(gate.wait_turn(), timeout=1)
    assert gate.waited == 1


async def test_a_stuck_high_queue_cannot_starve_low_forever() -> None:
    async def stuck() -> int:
        return 1

    gate = PriorityGate(stuck, poll_s=0.01, max_wait_s=0.1)
    await asyncio.wait_for(gate.wait_turn(), timeout=2)
