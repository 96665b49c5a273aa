"""Insight screens on the demo agency in a real browser (system Chromium): the campaign page's
hashtag and mention tables agree with GET /api/hashtags, pass axe-core and fit a 1280 px
desktop and a 390 px phone; screenshots go to docs/screenshots/."""

from __future__ import annotations

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
        await section.scroll_into_view_if_needed()
        suffix = "-phone" if size == "phone" else ""
        await section.screenshot(path=SCREENSHOTS / f"campaign-hashtags{suffix}.png")
        assert watched.errors == []
