"""The delivery forecast (docs/insights.md) on the demo agency, in a real browser: the campaign's
growth chart draws the dashed projection and the band reads as text, the influencer screen and
compare carry it, a share link shows it only when it opted in — each screen free of serious
axe-core violations, at 1280 and 390 px, captured for docs/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from pulse_contracts import utcnow
from tests.support.browser import watched_page
from tests.support.demo import SCREENSHOTS, DemoSystem, sign_in, stand_in_image

pytestmark = pytest.mark.system

AXE = Path(__file__).resolve().parents[1] / "support" / "vendor" / "axe.min.js"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


async def serious_violations(page: Page) -> list[str]:
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
             .filter(v => v.impact === "serious" || v.impact === "critical")
             .map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
    )
    return [f"{v['id']}: {v['nodes']}" for v in found]


async def settled(page: Page, name: str, size: str, focus: str) -> None:
    """axe-clean and no sideways scroll; then the window, scrolled to `focus`, captured."""
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(200)  # charts draw after load
    assert await serious_violations(page) == [], name
    wider: int = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wider <= 0, (name, wider)
    await page.locator(focus).first.scroll_into_view_if_needed()
    await page.wait_for_timeout(100)
    suffix = "" if size == "desktop" else "-phone"
    await page.screenshot(path=SCREENSHOTS / f"{name}{suffix}.png")


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_the_forecast_on_the_staff_screens(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]], size: str
) -> None:
    holiday = campaigns["Holiday Gift Sets"]
    autumn = campaigns["Autumn Glow Serum"]
    with demo.api() as api:
        kpis = api.get(f"/api/campaigns/{holiday['id']}").json()["kpis"]
        bookings = api.get(f"/api/campaigns/{holiday['id']}/bookings").json()["items"]
    forecast = kpis["forecast"]
    assert forecast["status"] == "projected"
    assert forecast["views_low"] <= forecast["views"] <= forecast["views_high"]
    async with watched_page(browser, viewport=SIZES[size], base_url=demo.gateway_url) as watched:
        page = watched.page
        await page.route(re.compile(r"/api/media-proxy\?"), stand_in_image)
        await sign_in(page, demo)

        await page.goto(f"/campaigns/{holiday['id']}")
        chart = page.locator("#growth-chart")
        await expect(chart.locator("canvas")).to_have_count(1)
        await expect(chart).to_have_attribute("data-projected", "true")
        box = page.locator("#campaign-forecast")
        await expect(box).to_contain_text(f"{forecast['views']:,}")
        await expect(box).to_contain_text(
            f"band {forecast['views_low']:,}–{forecast['views_high']:,}"
        )
        await expect(box).to_contain_text("shrinking day by day")
        # Engagement has no projected path: the dashed line goes with the views only.
        await page.get_by_role("button", name="Engagement").first.click()
        await expect(chart).to_have_attribute("data-projected", "false")
        await page.get_by_role("button", name="Views").first.click()
        await expect(chart).to_have_attribute("data-projected", "true")
        await settled(page, "forecast-campaign", size, "#growth-chart")

        # Winter Trail has a committed post still to come: the box says the projection counts
        # it and the low end does not.
        winter = campaigns["Winter Trail Collection"]
        with demo.api() as api:
            ahead = api.get(f"/api/campaigns/{winter['id']}").json()["kpis"]["forecast"]
        assert ahead["status"] == "projected"
        assert ahead["posts"] - ahead["posts_low"] == 1
        await page.goto(f"/campaigns/{winter['id']}")
        await expect(page.locator("#campaign-forecast [data-forecast='to-come']")).to_have_text(
            "Includes 1 committed post not live yet; the low end leaves it out."
        )
        await settled(page, "forecast-to-come", size, "#campaign-forecast")

        creator = next(b for b in bookings if b["kpis"])
        await page.goto(f"/influencers/{creator['influencer_id']}")
        item = page.locator(f".forecast-item[data-booking-id='{creator['id']}']")
        await expect(item.locator("canvas")).to_have_count(1)
        await expect(item.locator("[data-chart]")).to_have_attribute("data-projected", "true")
        await expect(
            page.locator(f"tr[data-booking-id='{creator['id']}'] [data-forecast-cell]")
        ).not_to_have_text("")
        await settled(page, "forecast-influencer", size, ".forecast-item")

        await page.goto(f"/compare?ids={holiday['id']},{autumn['id']}")
        row = page.locator("tr.compare-forecast").first
        await expect(row).to_contain_text(f"{forecast['views']:,}")
        await expect(row).to_contain_text("final")  # Autumn Glow Serum has ended
        await settled(page, "forecast-compare", size, "tr.compare-forecast")
        assert watched.errors == []


async def test_a_share_link_shows_the_forecast_only_when_it_opted_in(
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
            json={"expires_at": expires, "show_forecast": True},
        ).json()
        listed = api.get(f"/api/campaigns/{holiday['id']}/share-links").json()["items"]
    assert {x["id"]: x["show_forecast"] for x in listed}[opted["id"]] is True
    for size, viewport in SIZES.items():
        async with watched_page(browser, viewport=viewport) as client:
            await client.page.route(re.compile(r"/share/[^/]+/media"), stand_in_image)
            await client.page.goto(plain["url"])
            await expect(client.page.get_by_role("heading", level=1)).to_contain_text(
                "Holiday Gift Sets"
            )
            await expect(client.page.locator("#report-forecast")).to_have_count(0)
            await client.page.goto(opted["url"])
            await expect(client.page.locator("#report-forecast")).to_contain_text(
                "Forecast at the end date"
            )
            await settled(client.page, "forecast-share", size, "#report-forecast")
