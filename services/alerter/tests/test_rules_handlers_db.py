"""The booking and post rules on real PostgreSQL, driven by the events that feed them: catalog
copies, post.pull_failed / post.comments_scored, kpi.updated (which also says when each post's
newest sample was taken) and the sweep, with time under the test's control."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from pulse_alerter import evaluation, handlers, repository
from pulse_alerter.messages import NARROW
from pulse_contracts import EventData, make_event
from pulse_contracts.catalog import (
    BookingDeleted,
    BookingUpserted,
    CampaignDeleted,
    CampaignUpserted,
    Handle,
    InfluencerUpserted,
    OrganizationUpserted,
    PostRegistered,
    PostRemoved,
)
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    DailyClose,
    LatestCounters,
    PostNumbers,
)
from pulse_contracts.posts import PostCommentsScored, PostPullFailed
from pulse_runtime.db import create_pool
from pulse_runtime.messaging import parse_envelope
from tests.support.servers import Servers
from tests.support.services import settings_for

pytestmark = pytest.mark.integration

T0 = datetime(2027, 5, 3, 12, tzinfo=UTC)
START, END = date(2027, 5, 1), date(2027, 5, 10)
END_AT = datetime(2027, 5, 11, tzinfo=UTC)
S, M, H, D = (timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1))


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(settings_for("alerter", servers).dsn)
    yield created
    await created.close()


@pytest.fixture(autouse=True, params=["contract", "wire"])
def decoded(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test twice: the handlers given the contract's whole models, and given what the
    subscribers decode from the wire (pulse_alerter.messages): the outcomes must not differ."""
    monkeypatch.setattr(Agency, "from_the_wire", request.param == "wire")


class Agency:
    """One organization with one live campaign, one booking of Mia Chen and one TikTok post."""

    from_the_wire = False

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.org_id, self.campaign_id, self.booking_id = uuid4(), uuid4(), uuid4()
        self.influencer_id, self.post_id = uuid4(), uuid4()

    async def send(
        self, data: EventData, now: datetime, occurred_at: datetime | None = None
    ) -> int:
        envelope = make_event(
            data, org_id=self.org_id, producer="test", occurred_at=occurred_at or now
        )
        if self.from_the_wire:
            envelope = parse_envelope(envelope.model_dump_json().encode(), envelope.type, NARROW)
        if envelope.type.startswith("catalog."):
            return await handlers.on_catalog_event(self.pool, envelope, now)
        if envelope.type == "kpi.updated":
            return await handlers.on_kpi_updated(self.pool, envelope, now)
        return await handlers.on_post_event(self.pool, envelope, now)

    async def catalog(
        self,
        *,
        settings: dict[str, Any] | None = None,
        is_test: bool = False,
        followers: int | None = None,
        registered_at: datetime = T0,
    ) -> None:
        stamp = T0 - D
        await self.send(
            OrganizationUpserted(
                id=self.org_id,
                name="Northwind",
                is_test=is_test,
                settings=settings or {},
                updated_at=stamp,
            ),
            stamp,
        )
        await self.send(
            InfluencerUpserted(
                id=self.influencer_id,
                display_name="Mia Chen",
                handles=[Handle(platform="tiktok", handle="@mia", followers=followers)],
                updated_at=stamp,
            ),
            stamp,
        )
        await self.send(
            CampaignUpserted(
                id=self.campaign_id,
                client_id=uuid4(),
                name="Winter Drop",
                status="live",
                start_date=START,
                end_date=END,
                updated_at=stamp,
            ),
            stamp,
        )
        await self.send(
            BookingUpserted(
                id=self.booking_id,
                campaign_id=self.campaign_id,
                influencer_id=self.influencer_id,
                fee_cents=50_000,
                updated_at=stamp,
            ),
            stamp,
        )
        await self.send(
            PostRegistered(
                id=self.post_id,
                booking_id=self.booking_id,
                campaign_id=self.campaign_id,
                platform="tiktok",
                url="https://www.tiktok.com/@mia/video/1",
                registered_at=registered_at,
            ),
            registered_at,
        )

    def doc(
        self,
        as_of: datetime,
        *,
        views: int | None = None,
        observed_at: datetime | None = None,
        posted_at: datetime | None = None,
        **booking: Any,
    ) -> CampaignNumbers:
        """The aggregator's document at `as_of`; its post's latest sample has `views`, observed
        at `observed_at` (a minute before as_of unless given), or it has no sample yet."""
        latest = (
            LatestCounters(observed_at=observed_at or as_of - M, views=views, engagement=0)
            if views is not None
            else None
        )
        return CampaignNumbers(
            campaign=CampaignFigures(
                campaign_id=self.campaign_id,
                name="Winter Drop",
                status="live",
                start_date=START,
                end_date=END,
            ),
            bookings=[
                BookingNumbers(
                    booking_id=self.booking_id, influencer_id=self.influencer_id, **booking
                )
            ],
            posts=[
                PostNumbers(
                    post_id=self.post_id,
                    booking_id=self.booking_id,
                    influencer_id=self.influencer_id,
                    platform="tiktok",
                    posted_at=posted_at,
                    latest=latest,
                )
            ],
            as_of=as_of,
        )

    def pulled(self, observed_at: datetime, posted_at: datetime | None = None) -> CampaignNumbers:
        """The kpi.updated that follows a pull of the post at `observed_at`: the alerter reads
        the post's newest sample time and posted_at from the document, not from post.pulled."""
        return self.doc(observed_at, views=100, observed_at=observed_at, posted_at=posted_at)

    def failed(self, consecutive: int) -> PostPullFailed:
        return PostPullFailed(
            post_id=self.post_id,
            booking_id=self.booking_id,
            campaign_id=self.campaign_id,
            provider="scrapecreators",
            error_code="timeout",
            message="provider timed out",
            consecutive_failures=consecutive,
        )

    def scored(self, analysed: int, negative: int, scored_at: datetime) -> PostCommentsScored:
        return PostCommentsScored(
            post_id=self.post_id,
            booking_id=self.booking_id,
            campaign_id=self.campaign_id,
            platform="tiktok",
            analysed=analysed,
            positive=analysed - negative,
            neutral=0,
            negative=negative,
            scored_at=scored_at,
        )

    async def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            return await repository.list_alerts(
                conn,
                org_id=self.org_id,
                status=status,
                type=None,
                severity=None,
                campaign_id=self.campaign_id,
                after=None,
                limit=100,
            )

    async def open_(self) -> dict[str, str]:
        return {a["debounce_key"]: a["severity"] for a in await self.alerts("open")}

    async def outbox(self) -> list[tuple[str, str, str, bool]]:
        rows = await self.pool.fetch(
            "SELECT routing_key, convert_from(body, 'UTF8')::jsonb AS body "
            "FROM alerter.outbox ORDER BY id"
        )
        return [
            (
                r["routing_key"],
                r["body"]["data"]["debounce_key"],
                r["body"]["data"]["severity"],
                bool(r["body"]["data"].get("escalated")),
            )
            for r in rows
            if r["body"]["data"].get("campaign_id") == str(self.campaign_id)
        ]


async def test_stale_data_from_the_sweep_escalates_and_resolves_when_data_arrives(
    pool: asyncpg.Pool,
) -> None:
    a = Agency(pool)
    await a.catalog()
    key = f"stale_data:post:{a.post_id}"
    await a.send(a.pulled(T0, posted_at=T0 - 30 * M), T0)
    # Under a day old: 1 h interval, stale once the last data is more than 2 h old.
    await evaluation.sweep(pool, T0 + 2 * H)
    assert await a.open_() == {}
    await evaluation.sweep(pool, T0 + 2 * H + S)
    assert await a.open_() == {key: "warning"}
    (alert,) = await a.alerts("open")
    assert alert["message"] == ('No new data for Mia Chen\'s tiktok post in "Winter Drop" for 2 h')
    # 24 h without data: critical, published as an escalation.
    await evaluation.sweep(pool, T0 + 24 * H)
    assert await a.open_() == {key: "critical"}
    # A sample arrives: the condition clears and the system resolves the alert.
    now = T0 + 24 * H + 5 * M
    assert await a.send(a.pulled(now - M), now) == 1
    assert await a.open_() == {}
    (resolved,) = await a.alerts("resolved")
    assert resolved["resolved_by"] == "system"
    async with pool.acquire() as conn:
        found = await repository.get_alert(conn, org_id=a.org_id, alert_id=resolved["id"])
    assert found is not None
    assert [(h["action"], h["severity"]) for h in found["history"]] == [
        ("raised", "warning"),
        ("escalated", "critical"),
        ("resolved", "critical"),
    ]
    assert await a.outbox() == [
        ("alert.raised", key, "warning", False),
        ("alert.raised", key, "critical", True),
        ("alert.resolved", key, "critical", False),
    ]


async def test_three_failed_pulls_warn_until_a_sample_follows(pool: asyncpg.Pool) -> None:
    a = Agency(pool)
    await a.catalog()
    key = f"stale_data:post:{a.post_id}"
    await a.send(a.pulled(T0, posted_at=T0 - 30 * M), T0)
    assert await a.send(a.failed(1), T0 + 10 * M) == 0
    assert await a.send(a.failed(2), T0 + 20 * M) == 0
    assert await a.send(a.failed(3), T0 + 30 * M) == 1
    assert await a.open_() == {key: "warning"}
    # A late report of an earlier failure (2 in a row) does not undo the third.
    await a.send(a.failed(2), T0 + 31 * M, occurred_at=T0 + 15 * M)
    assert await a.open_() == {key: "warning"}
    # The next pull succeeds: the run of failures is over.
    assert await a.send(a.pulled(T0 + 40 * M), T0 + 40 * M) == 1
    assert await a.open_() == {}


async def test_sentiment_keeps_the_newest_scores(pool: asyncpg.Pool) -> None:
    a = Agency(pool)
    await a.catalog()
    key = f"sentiment:post:{a.post_id}"
    assert await a.send(a.scored(19, 19, T0), T0) == 0  # too few comments
    assert await a.send(a.scored(40, 14, T0 + H), T0 + H) == 1
    assert await a.open_() == {key: "warning"}
    (alert,) = await a.alerts("open")
    assert alert["message"] == (
        'Mia Chen\'s tiktok post in "Winter Drop": 35.0% of 40 analysed comments are negative'
    )
    # An older scoring arriving late changes nothing.
    assert await a.send(a.scored(30, 30, T0 + 30 * M), T0 + 2 * H) == 0
    assert await a.open_() == {key: "warning"}
    # (Fresh data, so the post is not stale: only sentiment is at stake here.)
    assert await a.send(a.pulled(T0 + 150 * M), T0 + 150 * M) == 0
    assert await a.send(a.scored(60, 30, T0 + 3 * H), T0 + 3 * H) == 1
    assert await a.open_() == {key: "critical"}
    assert await a.send(a.scored(100, 10, T0 + 4 * H), T0 + 4 * H) == 1
    assert await a.open_() == {}


async def test_booking_rules_from_kpi_updated_and_the_sweep(pool: asyncpg.Pool) -> None:
    a = Agency(pool)
    await a.catalog(registered_at=END_AT - 3 * D)
    await a.send(a.pulled(END_AT - 3 * D, posted_at=END_AT - 3 * D), END_AT - 3 * D)
    now = END_AT - 2 * D
    sampled: dict[str, Any] = {
        "views": 100,
        "observed_at": END_AT - 3 * D,
        "posted_at": END_AT - 3 * D,
    }
    doc = a.doc(
        now,
        **sampled,
        actual_views=5000,
        actual_engagement=100,
        engagement_rate=2.0,
        min_engagement_rate=3.0,
        actual_posts=1,
        committed_posts=2,
        previous_close=DailyClose(date=now.date() - D, views_cum=4000, engagement_cum=200),
    )
    await a.send(doc, now)
    drop, deadline = f"engagement_drop:booking:{a.booking_id}", f"deadline:booking:{a.booking_id}"
    opened = await a.open_()
    assert (opened[drop], opened[deadline]) == ("warning", "warning")
    messages = {x["debounce_key"]: x["message"] for x in await a.alerts("open")}
    assert messages[deadline] == (
        'Mia Chen has 1 of 2 posts live in "Winter Drop" with 2 days left'
    )
    assert messages[drop] == (
        'Mia Chen\'s engagement rate in "Winter Drop" is 2.0%'
        " (minimum 3.0%; 5.0% at yesterday's close)"
    )
    # No new numbers, but the end comes within a day: the sweep escalates the deadline.
    await evaluation.sweep(pool, END_AT - D)
    assert (await a.open_())[deadline] == "critical"
    # The second post goes live: the deadline alert resolves by itself.
    later = END_AT - D + H
    await a.send(
        a.doc(
            later,
            **sampled,
            actual_views=5000,
            actual_engagement=100,
            engagement_rate=2.0,
            min_engagement_rate=3.0,
            actual_posts=2,
            committed_posts=2,
        ),
        later,
    )
    assert deadline not in await a.open_()


async def test_viral_against_the_creators_followers_from_the_influencer_copy(
    pool: asyncpg.Pool,
) -> None:
    a = Agency(pool)
    await a.catalog(followers=5000)
    key = f"viral:post:{a.post_id}"
    await a.send(a.doc(T0, views=9_999), T0)
    assert key not in await a.open_()
    await a.send(a.doc(T0 + H, views=10_000), T0 + H)
    assert (await a.open_())[key] == "info"
    (alert,) = [x for x in await a.alerts("open") if x["debounce_key"] == key]
    assert alert["message"] == (
        'Mia Chen\'s tiktok post in "Winter Drop" is going viral with 10,000 views'
        " (the creator has 5,000 followers)"
    )


async def test_an_organizations_thresholds_and_test_flag(pool: asyncpg.Pool) -> None:
    strict = Agency(pool)
    await strict.catalog(settings={"alert_thresholds": {"sentiment_warning_share": 10}})
    await strict.send(strict.scored(40, 5, T0), T0)  # 12.5 %
    assert await strict.open_() == {f"sentiment:post:{strict.post_id}": "warning"}
    # A test organization is never pulled by Pulse: its silence is not stale data.
    testing = Agency(pool)
    await testing.catalog(is_test=True)
    await evaluation.sweep(pool, T0 + 3 * D)
    assert await testing.open_() == {}


async def test_alerts_resolve_when_their_subject_disappears(pool: asyncpg.Pool) -> None:
    a = Agency(pool)
    await a.catalog()
    await a.send(a.scored(40, 30, T0), T0)
    doc = a.doc(END_AT - H, actual_posts=0, committed_posts=1)
    await a.send(doc, END_AT - H)
    sentiment, deadline = f"sentiment:post:{a.post_id}", f"deadline:booking:{a.booking_id}"
    assert {sentiment, deadline} <= set(await a.open_())
    # The post is removed: its alerts resolve.
    removed = PostRemoved(
        id=a.post_id, booking_id=a.booking_id, campaign_id=a.campaign_id, removed_at=END_AT
    )
    assert await a.send(removed, END_AT) >= 1
    assert sentiment not in await a.open_()
    # The booking is deleted while the newest numbers still list it: resolved all the same,
    # and the sweep does not raise it again from that document.
    deleted = BookingDeleted(id=a.booking_id, campaign_id=a.campaign_id, deleted_at=END_AT)
    assert await a.send(deleted, END_AT + M) >= 1
    await evaluation.sweep(pool, END_AT + 2 * D)
    assert await a.open_() == {}
    assert all(x["resolved_by"] == "system" for x in await a.alerts("resolved"))


async def test_a_deleted_campaign_resolves_its_post_alerts_and_stays_deleted(
    pool: asyncpg.Pool,
) -> None:
    a = Agency(pool)
    await a.catalog()
    await a.send(a.scored(40, 30, T0), T0)
    assert await a.open_() != {}
    await a.send(CampaignDeleted(id=a.campaign_id, deleted_at=T0 + H), T0 + H)
    assert await a.open_() == {}
    # Late events about the campaign raise nothing.
    late = CampaignUpserted(
        id=a.campaign_id,
        client_id=uuid4(),
        name="Winter Drop",
        status="live",
        start_date=START,
        end_date=END,
        updated_at=T0 + 2 * H,
    )
    await a.send(late, T0 + 2 * H)
    await a.send(a.scored(50, 50, T0 + 3 * H), T0 + 3 * H)
    await evaluation.sweep(pool, T0 + 2 * D)
    assert await a.open_() == {}
