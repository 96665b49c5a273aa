"""What share decodes of kpi.updated (pulse_share.messages) stores exactly what the whole
document stored: the same redacted numbers and the same payload, to the byte. It holds no
money at all. It refuses a document bad in a field share reads as the contract does. And the
narrow models leave out of their contracts only the fields listed, checked against the
contracts themselves."""

from __future__ import annotations

import json
import typing
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel

from pulse_contracts import ContractError, EventData, make_event, parse_event
from pulse_contracts.catalog import CampaignUpserted, ClientUpserted, Handle, InfluencerUpserted
from pulse_contracts.emv import CampaignEmv
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
    creator_figures,
)
from pulse_runtime.messaging import parse_envelope
from pulse_share import consumer
from pulse_share.domain import (
    ShareRefs,
    build_payload,
    campaign_ref,
    client_ref,
    influencer_ref,
    redact_numbers,
)
from pulse_share.emv import share_emv
from pulse_share.forward import as_of_now
from pulse_share.messages import (
    LEFT_OUT,
    NARROW,
    BookingRead,
    CampaignRead,
    CountersRead,
    NumbersRead,
    PostRead,
)
from tests.support.narrow import assert_leaves_out_only

ORG = UUID("00000000-0000-0000-0000-0000000000aa")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
START, END = date(2026, 11, 1), date(2026, 12, 10)
D = timedelta(days=1)
CAMPAIGN, CLIENT = (UUID(f"00000000-0000-0000-0000-0000000c000{i}") for i in (1, 2))
MIA, LEO = (UUID(f"00000000-0000-0000-0000-0000000a000{i}") for i in (1, 2))
A, B, C = (UUID(f"00000000-0000-0000-0000-0000000b000{i}") for i in (1, 2, 3))

# Money no figure share shows can reach: found in anything share holds, it is a leak.
BUDGET, SPEND, FEE_A, FEE_B = 987_654_321_09, 876_543_210_98, 765_432_109_87, 654_321_098_76
CPM, CPE = 43_219_876.543, 32_198_765.432
BOOKING_COMMITTED = 543_210_987_65
MONEY = {str(v) for v in (BUDGET, SPEND, FEE_A, FEE_B, BOOKING_COMMITTED)} | {repr(CPM), repr(CPE)}
MONEY_FIELDS = {"fee_cents", "budget_cents", "spend_cents", "cpm", "cpe", "emv", "currency"}


def _wire(data: EventData) -> EventData:
    """What share's subscriber hands on_kpi_updated for this message."""
    return parse_envelope(_body(data), data.event_type, NARROW).data


def _body(data: EventData) -> bytes:
    return make_event(data, org_id=ORG, producer="aggregator").model_dump_json().encode()


def _whole(data: EventData) -> CampaignNumbers:
    """The same message decoded whole, as share's subscriber did before."""
    whole = parse_event(_body(data)).data
    assert isinstance(whole, CampaignNumbers)
    return whole


# --- the fields left out -------------------------------------------------------------------


@pytest.mark.parametrize("narrow", list(LEFT_OUT))
def test_each_narrow_model_leaves_out_only_the_listed_fields(narrow: Any) -> None:
    contract, left_out = LEFT_OUT[narrow]
    assert_leaves_out_only(narrow, contract, left_out, NARROWED)


NARROWED: dict[str, Any] = {
    "campaign": CampaignRead,
    "bookings": list[BookingRead],
    "posts": list[PostRead],
    "latest": CountersRead | None,
}


def _fields_within(model: type[BaseModel]) -> set[str]:
    """Every field name share's decoded document can hold, through every nested model."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(name)
        for part in _types_in(field.annotation):
            if isinstance(part, type) and issubclass(part, BaseModel):
                names |= _fields_within(part)
    return names


def _types_in(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    return [annotation] if not args else [t for a in args for t in _types_in(a)]


def test_no_money_field_is_ever_decoded_into_share() -> None:
    held = _fields_within(NumbersRead)
    assert not held & MONEY_FIELDS
    assert {"fee_cents", "budget_cents", "spend_cents", "cpm", "cpe"} <= _fields_within(
        CampaignNumbers
    )  # not vacuous: the contract's document carries them


# --- the same numbers, to the byte ---------------------------------------------------------


def _forecast(views: int, days: int) -> DeliveryForecast:
    return DeliveryForecast(
        status="projected",
        views=views,
        views_low=views - 1_000,
        views_high=views + 1_000,
        engagement=views // 20,
        engagement_low=views // 25,
        engagement_high=views // 15,
        posts=4,
        posts_low=3,
        posts_high=5,
        path=[
            ForecastDay(date=NOW.date() + i * D, views_cum=views // days * (i + 1))
            for i in range(days)
        ],
    )


def _series(days: int, per_day: int) -> list[DailyPoint]:
    return [
        DailyPoint(
            date=START + i * D,
            views_cum=per_day * (i + 1),
            views_delta=per_day,
            engagement_cum=per_day // 20 * (i + 1),
            engagement_delta=per_day // 20,
            posts_live=min(i, 9),
        )
        for i in range(days)
    ]


THUMBS = (
    "https://p16-sign.tiktokcdn.com/obj/cover.jpeg",
    "https://evil.example.com/track.gif",
    "http://p16.tiktokcdn.com/plain.jpeg",
    None,
)


def _post(n: int, booking_id: UUID, influencer_id: UUID | None) -> PostNumbers:
    views = 10_000 + 997 * n
    return PostNumbers(
        post_id=UUID(int=n + 1),
        booking_id=booking_id,
        influencer_id=influencer_id,
        platform=("tiktok", "instagram", "youtube", "facebook")[n % 4],
        url=f"https://www.tiktok.com/@creator/video/{n}",
        posted_at=None if n % 7 == 6 else NOW - n * timedelta(hours=3),
        caption=None if n % 5 == 4 else f"Glow serum day {n} #ad",
        thumb_url=THUMBS[n % len(THUMBS)],
        latest=None
        if n % 9 == 8
        else LatestCounters(
            views=views,
            likes=views // 20,
            comments=None if n % 3 else views // 200,
            shares=n,
            saves=None,
            reach=views * 2 if n % 2 else None,
            observed_at=NOW - n * timedelta(minutes=7),
            engagement=views // 20 + n,
            estimated=n % 4 == 1,
        ),
    )


def campaign_document(*, creators: bool = True) -> CampaignNumbers:
    """A document with every field filled in, money the most of all; `creators` False is a
    document stored before documents carried creators."""
    bookings = [
        BookingNumbers(
            booking_id=booking_id,
            influencer_id=influencer_id,
            committed_views=BOOKING_COMMITTED,
            committed_engagement=BOOKING_COMMITTED + 1,
            committed_posts=BOOKING_COMMITTED + 2,
            actual_views=views,
            actual_engagement=views // 20,
            actual_posts=posts,
            views_pct=12.34,
            engagement_pct=23.45,
            posts_pct=34.56,
            kpi_pct=12.34,
            engagement_rate=5.0,
            cpm=CPM,
            cpe=CPE,
            fee_cents=fee,
            min_engagement_rate=3.1415,
            previous_close=DailyClose(date=NOW.date() - D, views_cum=views - 10, engagement_cum=9),
            forecast=_forecast(views * 2, 20),
            recent=_series(7, views // 20),
        )
        for booking_id, influencer_id, views, posts, fee in (
            (A, MIA, 420_000, 12, FEE_A),
            (B, LEO, 910_000, 24, FEE_B),
            (C, None, 3_000, 1, 0),
        )
    ]
    return CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=CAMPAIGN,
            client_id=CLIENT,
            name="Glow Serum Launch",
            status="live",
            start_date=START,
            end_date=END,
            currency="EUR",
            budget_cents=BUDGET,
            spend_cents=SPEND,
            cpm=CPM,
            cpe=CPE,
            committed_views=2_000_000,
            committed_engagement=100_000,
            committed_posts=40,
            actual_views=1_333_000,
            actual_engagement=66_650,
            actual_posts=37,
            views_pct=66.65,
            engagement_pct=66.65,
            posts_pct=92.5,
            kpi_pct=66.65,
            engagement_rate=5.0,
            timeline_pct=48.78,
            forecast=_forecast(2_600_000, 21),
        ),
        bookings=bookings,
        posts=[_post(n, (A, B, C)[n % 3], (MIA, LEO, None)[n % 3]) for n in range(37)],
        daily=_series(20, 66_650),
        platforms=[
            PlatformSplit(platform="tiktok", views=1_000_000, engagement=50_000),
            PlatformSplit(platform="instagram", views=333_000, engagement=16_650),
        ],
        # Given in another order than the derived one: what the document says is what counts.
        creators=list(reversed(creator_figures(bookings))) if creators else [],
        as_of=NOW,
        emv=CampaignEmv(currency="EUR", emv_cents=BUDGET, roi=CPM),
    )


def _refs() -> ShareRefs:
    stamp = datetime(2026, 10, 1, tzinfo=UTC)
    return ShareRefs(
        campaign=campaign_ref(
            CampaignUpserted(
                id=CAMPAIGN,
                client_id=CLIENT,
                name="Glow Serum Launch",
                status="live",
                start_date=START,
                end_date=END,
                budget_cents=BUDGET,
                currency="EUR",
                updated_at=stamp,
            )
        ),
        client=client_ref(
            ClientUpserted(id=CLIENT, name="Lumière", brand_color="#C2185B", updated_at=stamp)
        ),
        influencers={
            i: influencer_ref(
                InfluencerUpserted(
                    id=i,
                    display_name=name,
                    handles=[Handle(platform="tiktok", handle=name.lower())],
                    updated_at=stamp,
                )
            )
            for i, name in ((MIA, "Mia Chen"), (LEO, "Leo"))
        },
    )


@pytest.mark.parametrize("creators", [True, False])
def test_share_stores_and_shows_the_same_bytes_from_the_narrow_document(creators: bool) -> None:
    doc = campaign_document(creators=creators)
    narrow, whole = _wire(doc), _whole(doc)
    assert isinstance(narrow, NumbersRead)

    stored = redact_numbers(narrow)
    assert stored.model_dump_json() == redact_numbers(whole).model_dump_json()
    assert stored.model_dump_json() == redact_numbers(doc).model_dump_json()
    payload = build_payload(stored, _refs(), NOW)
    expected = build_payload(redact_numbers(whole), _refs(), NOW)
    assert payload is not None
    assert expected is not None
    assert payload.model_dump_json() == expected.model_dump_json()
    later = NOW + 9 * D  # brought forward as a view does
    assert (
        as_of_now(payload, stored.as_of, later).model_dump_json()
        == as_of_now(expected, whole.as_of, later).model_dump_json()
    )
    # EMV for a link that opted in: valued from the same counters, to the cent.
    assert share_emv(payload, None) == share_emv(expected, None)
    assert share_emv(payload, None).emv_cents > 0
    # Not vacuous: the document reaches every branch of the redaction.
    assert stored.forecast is not None
    assert stored.forecast.path
    assert len(stored.creators) == 3
    assert stored.daily
    assert stored.platforms
    assert {p.thumb_url for p in stored.posts} == {THUMBS[0], None}
    assert any(p.counters is None for p in stored.posts)
    assert any(p.counters is not None and p.counters.estimated for p in stored.posts)


def test_what_share_decodes_of_the_document_holds_no_money() -> None:
    doc = campaign_document()
    held = _wire(doc).model_dump_json()
    assert not [m for m in MONEY if m in held]
    assert [m for m in MONEY if m in _body(doc).decode()]  # not vacuous: the message has it all


def test_the_kpi_subscriber_decodes_narrowly_and_the_others_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subscribed: dict[str, Any] = {}

    def subscribe_events(broker: Any, spec: Any, handle: Any, **options: Any) -> None:
        subscribed[spec.name] = options.get("narrow")

    monkeypatch.setattr(consumer, "subscribe_events", subscribe_events)
    consumer.register_consumers(SimpleNamespace(broker=None, pool=None))  # type: ignore[arg-type]
    assert subscribed == {"share.kpi": NARROW, "share.catalog": None, "share.reports": None}


# --- refused as the contract refuses it ----------------------------------------------------


def _raw(doc: CampaignNumbers) -> dict[str, Any]:
    return make_event(doc, org_id=ORG, producer="aggregator").model_dump(mode="json")


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("bookings", 0, "actual_views"), "many", r"bookings\.0\.actual_views"),
        (("posts", 3, "url"), "https://x/" + "y" * 2048, r"posts\.3\.url"),
        (("posts", 2, "platform"), "myspace", r"posts\.2\.platform"),
        (("posts", 0, "latest", "views"), -5, r"posts\.0\.latest\.views"),
        (("campaign", "kpi_pct"), "high", r"campaign\.kpi_pct"),
        (("campaign", "forecast", "path", 0, "date"), "someday", r"forecast\.path\.0\.date"),
        (("daily", 1, "views_cum"), None, r"daily\.1\.views_cum"),
        (("creators", 0, "booking_ids"), ["nope"], r"creators\.0\.booking_ids"),
        (("as_of",), "yesterday", r"as_of"),
    ],
)
def test_a_document_bad_in_a_field_share_reads_is_refused_as_before(
    path: tuple[str | int, ...], value: Any, reason: str
) -> None:
    body = _raw(campaign_document())
    _set(body["data"], path, value)
    raw = json.dumps(body).encode()
    with pytest.raises(ContractError, match=reason):
        parse_event(raw)
    with pytest.raises(ContractError, match=reason):  # to the DLQ (subscribe_events)
        parse_envelope(raw, "kpi.updated", NARROW)


def test_a_document_without_its_campaign_is_refused() -> None:
    body = _raw(campaign_document())
    del body["data"]["campaign"]
    with pytest.raises(ContractError, match=r"invalid kpi\.updated data: campaign"):
        parse_envelope(json.dumps(body).encode(), "kpi.updated", NARROW)


def test_money_share_never_reads_is_not_even_looked_at() -> None:
    # A fee or spend the contract would refuse is the aggregator's and the gateway's to refuse:
    # share does not decode it, so it neither stores it nor judges it.
    body = _raw(campaign_document())
    body["data"]["bookings"][0]["fee_cents"] = "lots"
    body["data"]["campaign"]["spend_cents"] = "lots"
    raw = json.dumps(body).encode()
    with pytest.raises(ContractError):
        parse_event(raw)
    assert isinstance(parse_envelope(raw, "kpi.updated", NARROW).data, NumbersRead)


def _set(node: Any, path: tuple[str | int, ...], value: Any) -> None:
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
