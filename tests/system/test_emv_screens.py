"""Earned media value on the demo agency in a real browser (docs/insights.md): the campaign
screen's "EMV (estimate)" with its ROI agrees with GET /api/campaigns/{id}/emv, the EMV rates
settings, and a share link that opted in (and only that one) shows it without any ROI — each
free of serious axe-core violations and sideways scroll; screenshots go to docs/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from pulse_contracts import utcnow
from tests.support.browser import watched_page
from tests.support.demo import SCREENSHOTS, DemoSystem, staff_page, stand_in_image
from tests.system.test_dashboard_quality import overflow, serious_violations, settle

pytestmark = pytest.mark.system

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def _euros(cents: int) -> str:
    """The dashboard's whole-money format: €1,235."""
    return f"€{(cents + 50) // 100:,}"


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_the_campaign_screen_shows_emv_as_an_estimate_with_its_roi(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]], size: str
) -> None:
    holiday = campaigns["Holiday Gift Sets"]
    async with staff_page(browser, demo) as watched:
        page = watched.page
        width, height = SIZES[size]
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto(f"/campaigns/{holiday['id']}")
        card = page.locator("#kpi-emv")
        await expect(card).to_contain_text("EMV (estimate)", timeout=20_000)
        await settle(page)
        # Pulls may land between the two reads: the page must agree with one answer of the API.
        for _ in range(5):
            with demo.api() as api:
                emv = api.get(f"/api/campaigns/{holiday['id']}/emv").json()
            shown = await card.locator("[data-kpi='kpi-emv']").inner_text()
            if shown == _euros(emv["emv_cents"]):
                break
            await page.reload()
            await settle(page)
        assert emv["currency"] == "EUR"  # the demo agency values its rates in euros
        assert shown == _euros(emv["emv_cents"])
        assert emv["emv_cents"] > 0
        await expect(card.locator("[data-emv-roi]")).to_have_text(f"{emv['roi']}×")
        await expect(page.locator("#booking-grid thead")).to_contain_text("EMV (est.)")
        assert await serious_violations(page) == []
        assert await overflow(page) <= 0
        await card.scroll_into_view_if_needed()
        suffix = "-phone" if size == "phone" else ""
        await page.screenshot(path=SCREENSHOTS / f"emv-campaign{suffix}.png")

        await page.goto("/settings/emv-rates")
        await expect(page.locator("#f-currency")).to_have_value("EUR")
        await expect(page.locator("#emv-rates")).to_contain_text("per 1,000 views")
        await settle(page)
        assert await serious_violations(page) == []
        assert await overflow(page) <= 0
        await page.screenshot(path=SCREENSHOTS / f"emv-rates-settings{suffix}.png")
        assert watched.errors == []


async def test_a_share_link_shows_emv_only_when_it_opted_in_and_never_roi(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    holiday = campaigns["Holiday Gift Sets"]
    expires = (utcnow() + timedelta(days=30)).isoformat()
    with demo.api() as api:
        plain = api.post(
            f"/api/campaigns/{holiday['id']}/share-links", json={"expires_at": expires}
        ).json()
        opted = api.post(
            f"/api/campaigns/{holiday['id']}/share-links",
            json={"expires_at": expires, "show_emv": True},
        ).json()
    assert (plain["show_emv"], opted["show_emv"]) == (False, True)
    async with watched_page(browser, viewport=SIZES["desktop"]) as client:
        page = client.page
        await page.route(re.compile(r"/share/[^/]+/media"), stand_in_image)
        await page.goto(plain["url"])
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Holiday Gift Sets")
        await expect(page.locator("#report-emv")).to_have_count(0)
        await page.goto(opted["url"])
        panel = page.locator("#report-emv")
        await expect(panel).to_contain_text("Earned media value")
        await expect(panel).to_contain_text("(an estimate)")
        await expect(panel).to_contain_text(" EUR")
        assert "ROI" not in await page.content()
        assert await serious_violations(page) == []
        await panel.scroll_into_view_if_needed()
        await page.screenshot(path=SCREENSHOTS / "emv-share.png")
