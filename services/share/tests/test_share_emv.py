"""Earned media value on share links (docs/insights.md): off by default, shown only to a link
that opted in, valued at the organization's rates from catalog.organization.upserted (checked
against an independent Decimal calculation), and never with a fee, a spend or an ROI. The share
service as a real process on real PostgreSQL and RabbitMQ."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from pulse_contracts import utcnow
from pulse_contracts.catalog import OrganizationUpserted
from pulse_report import report_page
from pulse_share.domain import ShareRefs, redact
from pulse_share.emv import share_emv
from pulse_share.render import client_report
from pulse_share.report_jobs import client_document
from services.share.tests.test_share_service import (  # the service's fixtures and world
    STAMP,
    World,
    anonymous,
    assert_no_leak,
    bus,
    catalog_events,
    create_link,
    db,
    eventually,
    handled,
    internal,
    kpi_document,
    projected,
    publish,
    reporter,
    share,
)
from tests.support.scenario import Bus

__all__ = ["anonymous", "bus", "db", "internal", "reporter", "share"]  # fixtures, used by name


def _oracle_cents(counters: dict[str, int], rates: dict[str, str]) -> int:
    amount = Decimal(counters["views"]) / 1000 * Decimal(rates["per_1000_views"])
    for metric in ("likes", "comments", "shares", "saves"):
        amount += Decimal(counters[metric]) * Decimal(rates["per_" + metric.removesuffix("s")])
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


TIKTOK_DEFAULTS = {
    "per_1000_views": "10",
    "per_like": "0.15",
    "per_comment": "0.15",
    "per_share": "0.15",
    "per_save": "0.15",
}
MAYA_POST = {"views": 1_234_567, "likes": 98_765, "comments": 4_321, "shares": 1_234, "saves": 567}


async def _rates(bus: Bus, w: World, rates: dict[str, Any], age: timedelta) -> UUID:
    return await publish(
        bus,
        w.org_id,
        OrganizationUpserted(
            id=w.org_id,
            name="Northwind Talent",
            settings={"emv_rates": rates, "alert_thresholds": {"deadline_warning_days": 3}},
            updated_at=STAMP + age,
        ),
    )


async def test_emv_shows_only_on_links_that_opted_in_and_never_money(
    bus: Bus, db: asyncpg.Connection, internal: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    w = World()
    today = utcnow().date()
    start, end = today - timedelta(days=7), today + timedelta(days=7)
    for event in catalog_events(w, start, end):
        await bus.publish_event(w.org_id, event)
    await _rates(bus, w, {"currency": "EUR", "tiktok": {"per_like": 0.2}}, timedelta(hours=1))
    doc = kpi_document(w, start, end, utcnow() - timedelta(minutes=1))
    await bus.publish_event(w.org_id, doc)

    async def ready() -> bool:
        row = await projected(db, w.campaign_id)
        rates = await db.fetchval(
            "SELECT rates FROM share.org_emv_rates WHERE org_id = $1", w.org_id
        )
        return bool(row and row["numbers_as_of"] == doc.as_of and rates)

    await eventually(ready)
    plain = await create_link(internal, w)
    opted = await create_link(internal, w, show_emv=True)
    assert (plain["show_emv"], opted["show_emv"]) == (False, True)
    listed = await internal.get(f"/internal/orgs/{w.org_id}/campaigns/{w.campaign_id}/share-links")
    assert {i["id"]: i["show_emv"] for i in listed.json()["items"]} == {
        plain["id"]: False,
        opted["id"]: True,
    }

    # Off by default: neither the JSON nor the page says anything of EMV.
    r = await anonymous.get(f"/api/share/{plain['token']}")
    assert r.status_code == 200, r.text
    assert "emv" not in r.json()
    page = await anonymous.get(f"/share/{plain['token']}")
    assert "Earned media value" not in page.text
    assert 'id="report-emv"' not in page.text

    # Opted in: Maya's TikTok post at the organization's rates (per like 0.2, the rest the
    # defaults); Leo's post has no sample yet, so nothing.
    tiktok = {
        "per_1000_views": "10",
        "per_like": "0.2",
        "per_comment": "0.15",
        "per_share": "0.15",
        "per_save": "0.15",
    }
    maya = _oracle_cents(MAYA_POST, tiktok)
    r = await anonymous.get(f"/api/share/{opted['token']}")
    emv = r.json()["emv"]
    assert emv == {
        "estimate": True,
        "currency": "EUR",
        "emv_cents": maya,
        "creators": [
            {"display_name": "Maya Styles", "emv_cents": maya},
            {"display_name": "Leo Runs", "emv_cents": 0},
        ],
    }
    assert "roi" not in r.text.lower()
    assert_no_leak(r.text, w, UUID(opted["id"]))
    page = await anonymous.get(f"/share/{opted['token']}")
    assert page.status_code == 200
    assert "Earned media value" in page.text
    assert "(an estimate)" in page.text
    assert f"{maya // 100:,}.{maya % 100:02d} EUR" in page.text
    assert "ROI" not in page.text
    assert_no_leak(page.text, w, UUID(opted["id"]))

    # A rate change reaches the link's next view; a late, older event changes nothing.
    await _rates(bus, w, {"currency": "EUR", "tiktok": {"per_like": 0.5}}, timedelta(hours=2))
    more = _oracle_cents(MAYA_POST, {**tiktok, "per_like": "0.5"})

    async def revalued() -> bool:
        found = await anonymous.get(f"/api/share/{opted['token']}")
        return bool(found.json()["emv"]["emv_cents"] == more)

    await eventually(revalued)
    late = await _rates(bus, w, {"currency": "EUR"}, timedelta(minutes=30))
    await eventually(lambda: handled(db, late))
    assert (await anonymous.get(f"/api/share/{opted['token']}")).json()["emv"]["emv_cents"] == more


def test_the_pdf_job_carries_emv_only_when_given() -> None:
    """The client's PDF is the page printed: an opted-in link's job carries the EMV panel (and
    still no money of the agency's), any other job none."""

    w = World()
    today = utcnow().date()
    payload = redact(
        kpi_document(w, today - timedelta(days=7), today, utcnow()), ShareRefs(), utcnow()
    )
    emv = share_emv(payload, {"currency": "EUR"})
    assert client_document(payload).emv is None
    carried = client_document(payload, emv=emv).emv
    assert carried is not None
    assert carried.emv_cents == emv.emv_cents == _oracle_cents(MAYA_POST, TIKTOK_DEFAULTS)
    html = report_page(client_report(payload, emv=emv), for_print=True).html
    assert 'id="report-emv"' in html
    assert "ROI" not in html
    assert_no_leak(html, w)
