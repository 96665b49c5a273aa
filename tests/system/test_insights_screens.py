"""Insight screens on the demo agency in a real browser (system Chromium): the campaign page's
hashtag and mention tables agree with GET /api/hashtags, pass axe-core and fit a 1280 px
desktop and a 390 px phone; screenshots go to docs/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.support.demo import SCREENSHOTS, DemoSystem, staff_page
from tests.system.test_dashboard_quality import overflow, serious_violations, settle

pytestmark = pytest.mark.system

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_campaign_hashtags_show_what_the_api_answers_and_pass_axe(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]], size: str
) -> None:
    holiday = campaigns["Holiday Gift Sets"]
    async with staff_page(browser, demo) as watched:
        page = watched.page
        width, height = SIZES[size]
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto(f"/campaigns/{holiday['id']}")
        rows = page.locator("#tags-hashtags tbody tr")
        await expect(rows.first).to_be_visible(timeout=20_000)
        await settle(page)
        # Pulls may land between the two reads: the page must agree with one answer of the API.
        for _ in range(5):
            with demo.api() as api:
                answer = api.get(
                    "/api/hashtags", params={"campaign_id": holiday["id"], "limit": "8"}
                ).json()
            want = [f"#{t['tag']}" for t in answer["hashtags"]]
            want_mentions = [f"@{t['tag']}" for t in answer["mentions"]]
            shown = await page.locator("#tags-hashtags tbody th").all_inner_texts()
            mentions = await page.locator("#tags-mentions tbody th").all_inner_texts()
            if (shown, mentions) == (want, want_mentions):
                break
            await page.reload()
            await settle(page)
        assert shown == want
        assert mentions == want_mentions
        views = await page.locator("#tags-hashtags tbody tr:first-child td").nth(1).inner_text()
        assert views == f"{answer['hashtags'][0]['views']:,}"
        assert await serious_violations(page) == []
        assert await overflow(page) <= 0
        section = page.locator("#campaign-tags")
        # A section taller than the screen is captured by scrolling and stitching: the sticky
        # top bar would be drawn across its middle, over a row of the table.
        # (Through the CSS object model: the page's CSP refuses a style element, rightly.)
        await page.evaluate("document.querySelector('.topbar').style.position = 'static'")
        await section.scroll_into_view_if_needed()
        suffix = "-phone" if size == "phone" else ""
        await section.screenshot(path=SCREENSHOTS / f"campaign-hashtags{suffix}.png")
        assert watched.errors == []


async def _benchmark_set(demo: DemoSystem) -> dict[str, Any]:
    with demo.api() as api:
        sets = api.get("/api/benchmark-sets").json()["items"]
    found: dict[str, Any] = next(s for s in sets if s["name"] == "Skincare rivals")
    return found


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_benchmarks_screen_puts_creators_beside_the_set_and_passes_axe(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]], size: str
) -> None:
    rivals = await _benchmark_set(demo)
    holiday = campaigns["Holiday Gift Sets"]
    async with staff_page(browser, demo) as watched:
        page = watched.page
        width, height = SIZES[size]
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto("/benchmarks")
        await settle(page)
        assert await serious_violations(page) == []
        assert await overflow(page) <= 0
        suffix = "-phone" if size == "phone" else ""
        await page.screenshot(path=SCREENSHOTS / f"benchmarks{suffix}.png", full_page=True)
        await page.get_by_role("link", name="Skincare rivals").click()
        await expect(page).to_have_url(re.compile(rf"/benchmarks/{rivals['id']}"))
        await page.get_by_label("Compare the creators of").select_option(holiday["id"])
        await page.get_by_role("button", name="Compare").click()
        # The accounts are pulled in the background: the page shows them as they arrive.
        for _ in range(60):
            statuses = await page.locator("#benchmark-accounts tbody td .badge").all_inner_texts()
            if statuses and "pending" not in statuses:
                break
            await page.wait_for_timeout(1000)
            await page.reload()
        assert "unknown handle" in statuses
        assert statuses.count("ok") == 4
        with demo.api() as api:
            answer = api.get(
                f"/api/benchmarks/{rivals['id']}", params={"campaign_id": holiday["id"]}
            ).json()
        names = await page.locator("#benchmark-creators tbody th").all_inner_texts()
        assert names == [c["name"] for c in answer["creators"]]
        median = (
            await page.locator("#benchmark-percentiles tbody tr")
            .first.locator("td")
            .nth(2)
            .inner_text()
        )
        p50 = answer["percentiles"]["median_views"]["p50"]
        assert median == (f"{p50:,.2f}" if not float(p50).is_integer() else f"{int(p50):,}")
        await settle(page)
        assert await serious_violations(page) == []
        assert await overflow(page) <= 0
        await page.screenshot(path=SCREENSHOTS / f"benchmark{suffix}.png", full_page=True)
        assert watched.errors == []


async def test_a_new_benchmark_set_from_the_form_and_its_mistakes(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    async with staff_page(browser, demo) as watched:
        page = watched.page
        await page.goto("/benchmarks")
        await page.get_by_label("Name").fill("Gift-set creators")
        await page.get_by_label("Public accounts").fill("youtube @someone")
        await page.get_by_role("button", name="Create set").click()
        await expect(page.locator("#benchmark-set-form .field-error")).to_be_visible()
        await page.get_by_label("Public accounts").fill("tiktok @glowrival\ninstagram velvetskin")
        await page.get_by_role("button", name="Create set").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Gift-set creators")
        await expect(page.locator("#benchmark-accounts tbody tr")).to_have_count(2)
        assert watched.errors == []


async def test_a_set_is_managed_from_its_page_with_confirmations(
    browser: Browser, demo: DemoSystem
) -> None:
    """Add, rename, remove (confirmed) and delete (confirmed) from the set's page, at phone width:
    each step shows at once, and a dismissed confirmation changes nothing."""
    with demo.api() as api:
        made = api.post(
            "/api/benchmark-sets",
            json={"name": "Shortlist", "accounts": [{"platform": "tiktok", "handle": "glowrival"}]},
        ).json()
    async with staff_page(browser, demo) as watched:
        page = watched.page
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(f"/benchmarks/{made['id']}")
        await page.get_by_label("Platform").select_option("instagram")
        await page.get_by_label("Handle").fill("@velvetskin")
        await page.get_by_role("button", name="Add account").click()
        # The set's own list (the gateway's); the figures table beside it waits on ingest.
        rows = page.locator("#benchmark-account-list li")
        await expect(rows).to_have_count(2)
        await page.get_by_label("Handle").fill("velvetskin")  # already in the set
        await page.get_by_label("Platform").select_option("instagram")
        await page.get_by_role("button", name="Add account").click()
        await expect(page.locator("#e-handle")).to_contain_text("already holds")

        await page.get_by_label("Set name").fill("Shortlist, spring")
        await page.get_by_role("button", name="Rename").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Shortlist, spring")

        # Dismissed: nothing is removed. Accepted: the account leaves the set.
        page.once("dialog", lambda dialog: dialog.dismiss())
        await page.get_by_role("button", name="Remove @glowrival").click()
        await page.wait_for_timeout(500)
        await expect(rows).to_have_count(2)
        page.once("dialog", lambda dialog: dialog.accept())
        await page.get_by_role("button", name="Remove @glowrival").click()
        await expect(rows).to_have_count(1)
        await expect(page.locator("#benchmark-account-list")).not_to_contain_text("glowrival")
        await settle(page)
        assert await serious_violations(page) == []
        assert await overflow(page) <= 0

        await page.get_by_text("Delete this set").click()
        page.once("dialog", lambda dialog: dialog.accept())
        await page.get_by_role("button", name="Delete set").click()
        await expect(page).to_have_url(re.compile(r"/benchmarks$"))
        await expect(page.locator("#benchmark-sets")).not_to_contain_text("Shortlist, spring")
        assert watched.errors == []
