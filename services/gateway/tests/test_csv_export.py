"""The campaign CSV export: rows, totals, no money without the right, formulas neutralised,
and a file that imports again."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import uuid4

from pulse_contracts.emv import EmvRates, campaign_emv
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    LatestCounters,
    PostNumbers,
)
from pulse_gateway.csv_export import export_campaign_csv
from pulse_gateway.csv_import import ImportRow, RowError, read_metrics_csv

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TIKTOK = "https://www.tiktok.com/@creator/video/7433917265401856302"


CAMPAIGN_ID = uuid4()
ANA, BEN = uuid4(), uuid4()
BOOKING_A, BOOKING_B = uuid4(), uuid4()


def numbers(
    *, campaign_name: str = "Winter Launch", posts: Iterable[PostNumbers] | None = None
) -> CampaignNumbers:
    observed = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    default_posts = [
        PostNumbers(
            post_id=uuid4(),
            booking_id=BOOKING_A,
            influencer_id=ANA,
            platform="instagram",
            url="https://www.instagram.com/p/CxAbCdEfG/",
            posted_at=datetime(2026, 11, 18, 9, 30, tzinfo=UTC),
            latest=LatestCounters(
                observed_at=observed,
                views=1000,
                likes=90,
                comments=10,
                shares=None,
                saves=None,
                engagement=100,
            ),
        ),
        PostNumbers(
            post_id=uuid4(),
            booking_id=BOOKING_B,
            platform="tiktok",
            url=TIKTOK,
            latest=LatestCounters(
                observed_at=observed,
                views=0,
                likes=0,
                comments=0,
                shares=0,
                saves=0,
                engagement=0,
                estimated=True,
            ),
        ),
        PostNumbers(post_id=uuid4(), booking_id=BOOKING_B, platform="youtube"),
    ]
    return CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=CAMPAIGN_ID,
            name=campaign_name,
            currency="EUR",
            committed_views=5000,
            actual_views=1000,
            actual_engagement=100,
            actual_posts=2,
            views_pct=20.0,
            posts_pct=66.67,
            kpi_pct=20.0,
            engagement_rate=10.0,
            spend_cents=1234567,
            budget_cents=7777777,
            cpm=12345.67,
            cpe=123.46,
        ),
        bookings=[
            BookingNumbers(
                booking_id=BOOKING_A, influencer_id=ANA, fee_cents=987654, kpi_pct=61.23
            ),
            BookingNumbers(booking_id=BOOKING_B, influencer_id=BEN, fee_cents=246913, kpi_pct=None),
        ],
        posts=list(default_posts if posts is None else posts),
        as_of=datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
    )


NAMES = {ANA: "Ana Lima", BEN: "Ben Ödegaard"}


def export(doc: CampaignNumbers, **kwargs: Any) -> tuple[list[list[str]], list[list[str]]]:
    text = "".join(export_campaign_csv(doc, influencer_names=NAMES, **kwargs))
    posts, totals = text.split("\r\n\r\n")
    return list(csv.reader(io.StringIO(posts))), list(csv.reader(io.StringIO(totals)))


def test_export_rows_with_money() -> None:
    rows, _ = export(numbers())
    assert rows[0] == [
        "campaign",
        "influencer",
        "platform",
        "post_url",
        "posted_at",
        "observed_at",
        "views",
        "likes",
        "comments",
        "shares",
        "saves",
        "engagement",
        "estimated",
        "currency",
        "booking_fee",
        "booking_kpi_pct",
        "emv_currency",
        "emv_estimate",
    ]
    assert rows[1] == [
        "Winter Launch",
        "Ana Lima",
        "instagram",
        "https://www.instagram.com/p/CxAbCdEfG/",
        "2026-11-18T09:30:00Z",
        "2026-11-20T10:00:00Z",
        "1000",
        "90",
        "10",
        "n/a",
        "n/a",
        "100",
        "no",
        "EUR",
        "9876.54",
        "61.23",
        "",  # no EMV given: empty, never a made-up 0
        "",
    ]
    # Measured zeros stay zeros; the influencer comes from the booking when the post has none.
    assert rows[2][1:] == [
        "Ben Ödegaard",
        "tiktok",
        TIKTOK,
        "",
        "2026-11-20T10:00:00Z",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "yes",
        "EUR",
        "2469.13",
        "n/a",
        "",
        "",
    ]
    # A post never observed has no numbers at all, not zeros.
    assert rows[3][2:] == [
        "youtube",
        "",
        "",
        "",
        *["n/a"] * 6,
        "",
        "EUR",
        "2469.13",
        "n/a",
        "",
        "",
    ]
    assert len(rows) == 4


def test_export_totals_section() -> None:
    _, totals = export(numbers())
    assert totals[0] == ["totals", "value"]
    assert dict(totals[1:]) == {
        "campaign": "Winter Launch",
        "as_of": "2026-11-20T12:00:00Z",
        "actual_views": "1000",
        "actual_engagement": "100",
        "actual_posts": "2",
        "committed_views": "5000",
        "committed_engagement": "n/a",
        "committed_posts": "n/a",
        "views_pct": "20.00",
        "engagement_pct": "n/a",
        "posts_pct": "66.67",
        "kpi_pct": "20.00",
        "engagement_rate": "10.00",
        "currency": "EUR",
        "spend": "12345.67",
        "cpm": "12345.67",
        "cpe": "123.46",
        "emv_currency": "",
        "emv_estimate": "",
        "roi": "",
    }


def _oracle_money(views: int, likes: int, comments: int, cpm: str, cpe: str) -> str:
    """Independent: decimal strings, one sum, to the cent ROUND_HALF_UP, as the CSV writes it."""
    amount = Decimal(views) / 1000 * Decimal(cpm) + Decimal(likes + comments) * Decimal(cpe)
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_export_values_each_post_and_the_campaign_at_the_given_rates() -> None:
    doc = numbers()
    rates = EmvRates.merged(
        {"currency": "EUR", "instagram": {"per_1000_views": 7.5, "per_like": 0.125}}
    )
    rows, totals = export(doc, emv=campaign_emv(doc, rates))
    header = rows[0]
    at = {name: header.index(name) for name in ("emv_currency", "emv_estimate")}
    # 1000 views at 7.50 per 1000, 90 likes at 0.125, 10 comments at the default 0.25.
    instagram = Decimal(1000) / 1000 * Decimal("7.5") + 90 * Decimal("0.125") + 10 * Decimal("0.25")
    assert rows[1][at["emv_estimate"]] == str(instagram.quantize(Decimal("0.01"))) == "21.25"
    assert rows[2][at["emv_estimate"]] == _oracle_money(0, 0, 0, "10", "0.15") == "0.00"
    assert rows[3][at["emv_estimate"]] == ""  # never observed: no estimate, not 0
    assert {row[at["emv_currency"]] for row in rows[1:]} == {"EUR"}
    figures = dict(totals[1:])
    assert figures["emv_estimate"] == "21.25"
    roi = (Decimal("21.25") / Decimal("12345.67")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert figures["roi"] == f"{roi:.2f}"

    # Rates in another currency than the campaign's: an EMV, but no ROI across currencies.
    usd = export(doc, emv=campaign_emv(doc, EmvRates()))[1]
    want = _oracle_money(1000, 90, 10, "8", "0.25")
    assert dict(usd[1:])["emv_estimate"] == want == "33.00"
    assert dict(usd[1:])["emv_currency"] == "USD"
    assert dict(usd[1:])["roi"] == "n/a"


def test_export_without_money_leaks_no_money() -> None:
    doc = numbers()
    emv = campaign_emv(doc, EmvRates.merged({"currency": "EUR", "instagram": {"per_like": 1000}}))
    text = "".join(export_campaign_csv(doc, influencer_names=NAMES, include_money=False, emv=emv))
    assert str(emv.emv_cents)[:-2] not in text  # 90 000.00 + … of EMV: nowhere
    for word in ("emv", "roi", "emv_estimate"):
        assert word not in text.lower()
    for leak in ("9876.54", "987654", "2469.13", "246913", "61.23", "12345.67", "1234567"):
        assert leak not in text
    for leak in ("123.46", "77777", "EUR"):
        assert leak not in text
    for word in ("fee", "spend", "cpm", "cpe", "currency", "budget"):
        assert word not in text.lower()
    rows, totals = export(doc, include_money=False)
    assert len(rows[0]) == 13
    assert all(len(row) == 13 for row in rows)
    assert "kpi_pct" in dict(totals[1:])


def test_export_neutralises_formulas() -> None:
    hostile = [
        '=HYPERLINK("http://evil","x")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\tcmd",
        "\rcmd",
    ]
    doc = numbers(campaign_name=hostile[0])
    names = dict(zip([uuid4() for _ in hostile], hostile, strict=True))
    posts = [
        PostNumbers(
            post_id=uuid4(), booking_id=BOOKING_A, influencer_id=i, platform="other", url=name
        )
        for i, name in names.items()
    ]
    doc = doc.model_copy(update={"posts": posts})
    text = "".join(export_campaign_csv(doc, influencer_names=names))
    rows = list(csv.reader(io.StringIO(text.split("\r\n\r\n")[0])))
    for row, name in zip(rows[1:], hostile, strict=True):
        assert row[0] == "'" + hostile[0]
        assert row[1] == "'" + name
        assert row[3] == "'" + name
    totals = dict(csv.reader(io.StringIO(text.split("\r\n\r\n")[1])))
    assert totals["campaign"] == "'" + hostile[0]
    # Harmless values are untouched, including commas and quotes, which csv quotes.
    plain = numbers(campaign_name='Sale, "big" one')
    assert export(plain)[0][1][0] == 'Sale, "big" one'


def test_export_streams_one_record_per_item() -> None:
    records = export_campaign_csv(numbers(), influencer_names={}, include_money=True)
    assert not isinstance(records, list)
    items = list(records)
    assert all(item.endswith("\r\n") for item in items)
    assert items[4] == "\r\n"  # header, three posts, then the blank separator line
    assert items[1].split(",")[1] == ""  # unknown influencer: empty, never an id


def test_export_reimports() -> None:
    text = "".join(export_campaign_csv(numbers(), influencer_names=NAMES))
    posts = text.split("\r\n\r\n")[0] + "\r\n"
    results = list(read_metrics_csv([posts.encode()], now=NOW))
    first, second, *never = results
    assert isinstance(first, ImportRow)
    assert (first.views, first.shares, first.saves, first.estimated) == (1000, None, None, False)
    assert isinstance(second, ImportRow)
    assert second.estimated is True
    # The post never observed (and without a URL) cannot be a sample.
    assert {(e.line, e.field) for e in never if isinstance(e, RowError)} == {
        (4, "post_url"),
        (4, "observed_at"),
        (4, None),
    }
