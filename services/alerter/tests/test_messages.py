"""What the alerter decodes of kpi.updated (pulse_alerter.messages) gives its rules exactly
what the contract's whole model gives: the same conditions for a full document at every moment.
And the narrow models leave out of their contracts only the fields listed, checked against the
contracts themselves."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from pulse_alerter.context import CampaignContext, CommentScores, Influencer, PostState
from pulse_alerter.messages import (
    LEFT_OUT,
    NARROW,
    BookingRead,
    CampaignRead,
    ForecastRead,
    Numbers,
    NumbersRead,
    PostRead,
)
from pulse_alerter.rules import evaluate_all
from pulse_contracts import ContractError, EventData, make_event
from pulse_contracts.forecast import DeliveryForecast, ForecastDay
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    DailyClose,
    DailyPoint,
    LatestCounters,
    PlatformSplit,
    PostNumbers,
)
from pulse_runtime.messaging import parse_envelope
from tests.support.narrow import assert_leaves_out_only

ORG = uuid4()
NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)
START, END = date(2025, 3, 1), date(2025, 3, 20)
D = timedelta(days=1)


def _wire(data: EventData) -> EventData:
    """What the alerter's subscribers hand its handlers for this message."""
    body = make_event(data, org_id=ORG, producer="test").model_dump_json().encode()
    return parse_envelope(body, data.event_type, NARROW).data


def _as_the_alerter_keeps_it(doc: CampaignNumbers) -> CampaignNumbers:
    """kpi.updated decoded from the wire and stored, read back as the contract's document."""
    narrow = _wire(doc)
    assert isinstance(narrow, NumbersRead)
    return CampaignNumbers.model_validate_json(narrow.model_dump_json())


def _as_the_rules_get_it(doc: CampaignNumbers) -> list[Numbers]:
    """What an evaluation reads: the document its subscriber decoded (repository.HeldNumbers),
    or the stored one loaded (repository.load_numbers)."""
    narrow = _wire(doc)
    assert isinstance(narrow, NumbersRead)
    return [narrow, NumbersRead.model_validate_json(narrow.model_dump_json())]


# --- the fields left out -------------------------------------------------------------------


@pytest.mark.parametrize("narrow", list(LEFT_OUT))
def test_each_narrow_model_leaves_out_only_the_listed_fields(narrow: Any) -> None:
    contract, left_out = LEFT_OUT[narrow]
    assert_leaves_out_only(narrow, contract, left_out, NARROWED)


NARROWED: dict[str, Any] = {
    "forecast": ForecastRead | None,
    "campaign": CampaignRead,
    "bookings": list[BookingRead],
    "posts": list[PostRead],
}


# --- kpi.updated: the same conditions from the narrow document -----------------------------

A, B, C = (UUID(f"00000000-0000-0000-0000-00000000b00{i}") for i in (1, 2, 3))
MIA, LEO = (
    UUID("00000000-0000-0000-0000-00000000a001"),
    UUID("00000000-0000-0000-0000-00000000a002"),
)


def _forecast(views_high: int, engagement_high: int) -> DeliveryForecast:
    return DeliveryForecast(
        status="projected",
        views=views_high - 100,
        views_low=views_high - 200,
        views_high=views_high,
        engagement=engagement_high - 10,
        engagement_low=engagement_high - 20,
        engagement_high=engagement_high,
        posts=3,
        posts_low=2,
        posts_high=4,
        path=[ForecastDay(date=NOW.date() + i * D, views_cum=1000 * (i + 1)) for i in range(10)],
    )


def _recent() -> list[DailyPoint]:
    return [
        DailyPoint(
            date=NOW.date() - i * D,
            views_cum=10_000 - 500 * i,
            views_delta=500,
            engagement_cum=300 - 10 * i,
            engagement_delta=10,
            posts_live=2,
        )
        for i in range(7)
    ]


def _post(booking_id: UUID, influencer_id: UUID | None, views: int | None, n: int) -> PostNumbers:
    return PostNumbers(
        post_id=UUID(f"00000000-0000-0000-0000-0000000{n:05d}"),
        booking_id=booking_id,
        influencer_id=influencer_id,
        platform="tiktok" if n % 2 else "instagram",
        url=f"https://www.tiktok.com/@mia/video/{n}",
        posted_at=NOW - 3 * D - n * timedelta(hours=1),
        caption="Spring is here #ad",
        thumb_url=f"https://p16.tiktokcdn.com/obj/cover-{n}.jpeg",
        latest=None
        if views is None
        else LatestCounters(
            views=views,
            likes=views // 20,
            comments=views // 200,
            observed_at=NOW - timedelta(hours=2),
            engagement=views // 20 + views // 200,
        ),
    )


def full_document(status: Any = "live") -> CampaignNumbers:
    """A document on which most rules hold: A under its KPI, below its minimum engagement rate
    and forecast to miss; one post of B viral; C unassigned and on time; every series, path,
    text and split the alerter does not read filled in."""
    bookings = [
        BookingNumbers(
            booking_id=A,
            influencer_id=MIA,
            committed_views=500_000,
            committed_engagement=20_000,
            committed_posts=4,
            actual_views=9_000,
            actual_engagement=90,
            actual_posts=2,
            views_pct=1.8,
            engagement_pct=0.45,
            posts_pct=50.0,
            kpi_pct=0.45,
            engagement_rate=1.0,
            min_engagement_rate=3.0,
            fee_cents=250_000,
            cpm=277.78,
            cpe=27.78,
            previous_close=DailyClose(date=NOW.date() - D, views_cum=8_000, engagement_cum=400),
            forecast=_forecast(views_high=40_000, engagement_high=900),
            recent=_recent(),
        ),
        BookingNumbers(
            booking_id=B,
            influencer_id=LEO,
            committed_views=100_000,
            actual_views=1_200_000,
            actual_engagement=60_000,
            actual_posts=12,
            views_pct=1200.0,
            engagement_rate=5.0,
            forecast=_forecast(views_high=2_000_000, engagement_high=90_000),
            recent=_recent(),
        ),
        BookingNumbers(booking_id=C, committed_posts=1, actual_posts=1, actual_views=3_000),
    ]
    posts = [
        _post(A, MIA, 4_000, 1),
        _post(A, MIA, 5_000, 2),
        *(_post(B, LEO, 20_000 + 1_000 * n, n) for n in range(3, 14)),
        _post(B, LEO, 900_000, 14),
        _post(C, None, 3_000, 15),
        _post(C, None, None, 16),
    ]
    return CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=uuid4(),
            client_id=uuid4(),
            name="Spring launch",
            status=status,
            start_date=START,
            end_date=END,
            currency="EUR",
            budget_cents=1_000_000,
            committed_views=600_000,
            committed_engagement=25_000,
            actual_views=1_212_000,
            timeline_pct=47.37,
            forecast=_forecast(views_high=300_000, engagement_high=10_000),
        ),
        bookings=bookings,
        posts=posts,
        daily=[
            DailyPoint(
                date=START + i * D,
                views_cum=1000 * i,
                views_delta=1000,
                engagement_cum=50 * i,
                engagement_delta=50,
                posts_live=i,
            )
            for i in range(10)
        ],
        platforms=[PlatformSplit(platform="tiktok", views=1_000_000, engagement=50_000)],
        as_of=NOW - timedelta(minutes=5),
    )


def _context(doc: Numbers) -> CampaignContext:
    first = doc.posts[0]
    return CampaignContext(
        doc=doc,
        influencers={MIA: Influencer("Mia Chen", {"tiktok": 5_000}), LEO: Influencer("Leo")},
        posts={
            first.post_id: PostState(
                post_id=first.post_id,
                booking_id=first.booking_id,
                campaign_id=doc.campaign.campaign_id,
                platform="tiktok",
                registered_at=NOW - 10 * D,
                last_data_at=NOW - 3 * D,
                comments=CommentScores(analysed=200, negative=90),
            )
        },
    )


@pytest.mark.parametrize("status", ["live", "draft"])
@pytest.mark.parametrize(
    "now", [NOW, NOW + 4 * D, datetime(2025, 3, 20, 23, tzinfo=UTC), NOW + 30 * D]
)
def test_the_narrow_document_gives_every_rule_the_same_outcome(status: Any, now: datetime) -> None:
    full = full_document(status)
    expected = evaluate_all(_context(full), now)
    for kept in _as_the_rules_get_it(full):
        assert evaluate_all(_context(kept), now) == expected
    if status == "live" and now == NOW + 4 * D:  # not vacuous: every rule holds somewhere here
        holding = {c.type for c in expected if c.holds}
        assert {
            "under_kpi",
            "engagement_drop",
            "viral",
            "forecast_miss",
            "stale_data",
            "sentiment",
        } <= holding


def test_the_narrow_document_is_the_full_one_without_what_the_alerter_never_reads() -> None:
    full = full_document()
    kept = _as_the_alerter_keeps_it(full)
    assert kept.campaign == full.campaign.model_copy(
        update={"forecast": full.campaign.forecast.model_copy(update={"path": []})}
        if full.campaign.forecast
        else {}
    )
    assert kept.bookings == [
        b.model_copy(
            update={
                "recent": [],
                "forecast": b.forecast.model_copy(update={"path": []}) if b.forecast else None,
            }
        )
        for b in full.bookings
    ]
    assert kept.posts == [
        p.model_copy(update={"url": None, "caption": None, "thumb_url": None}) for p in full.posts
    ]
    assert (kept.as_of, kept.daily, kept.platforms) == (full.as_of, [], [])


def test_a_document_stored_whole_before_still_loads_for_the_rules() -> None:
    # Rows written before the narrow decode hold whole documents; both load the same rules.
    full = full_document()
    assert evaluate_all(_context(full), NOW) == evaluate_all(
        _context(_as_the_alerter_keeps_it(full)), NOW
    )
    assert NumbersRead.model_validate_json(full.model_dump_json()) == _wire(full)


def test_kpi_updated_with_a_bad_field_the_rules_read_is_still_refused() -> None:
    body = make_event(full_document(), org_id=ORG, producer="aggregator").model_dump(mode="json")
    body["data"]["bookings"][0]["actual_views"] = "many"
    with pytest.raises(ContractError, match=r"bookings\.0\.actual_views"):
        parse_envelope(_json(body), "kpi.updated", NARROW)
    body["data"]["bookings"][0]["actual_views"] = 1
    del body["data"]["campaign"]
    with pytest.raises(ContractError, match=r"invalid kpi\.updated data: campaign"):
        parse_envelope(_json(body), "kpi.updated", NARROW)


def _json(raw: dict[str, Any]) -> bytes:
    return json.dumps(raw).encode()
