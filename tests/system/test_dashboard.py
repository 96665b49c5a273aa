"""The staff dashboard in a real browser (system Chromium) against the whole running system
with the demo agency: the screens load without console errors, search, compare and live
updates work as a person uses them, and each screen is captured for docs/screenshots/."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from pypdf import PdfReader

from pulse_contracts import utcnow
from tests.support.browser import watched_page
from tests.support.demo import (
    DemoSystem,
    capture,
    staff_page,
)

pytestmark = pytest.mark.system


async def _mark(page: Page) -> None:
    """A flag on the window: it survives htmx swaps and disappears on any full reload."""
    await page.evaluate("window.__pulseNoReload = true")


async def _not_reloaded(page: Page) -> bool:
    return bool(await page.evaluate("window.__pulseNoReload === true"))


async def test_every_screen_loads_without_console_errors(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    async with watched_page(browser, base_url=demo.gateway_url) as anonymous:
        await anonymous.page.goto("/campaigns")
        await expect(anonymous.page).to_have_url(f"{demo.gateway_url}/login?next=/campaigns")
        await expect(anonymous.page.get_by_label("Email")).to_be_visible()
        await capture(anonymous.page, "login")
        assert anonymous.errors == []

    async with staff_page(browser, demo) as watched:
        page = watched.page
        rows = page.locator("#campaign-list tbody tr")
        await expect(rows).to_have_count(len(campaigns))
        for name in campaigns:
            await expect(page.get_by_role("link", name=name)).to_be_visible()
        await expect(page.locator(".timeline-today").first).to_be_visible()
        await capture(page, "campaigns")

        holiday = campaigns["Holiday Gift Sets"]
        await page.get_by_role("link", name="Holiday Gift Sets").click()
        await expect(page).to_have_url(f"{demo.gateway_url}/campaigns/{holiday['id']}")
        views = f"{holiday['kpis']['actual_views']:,}"
        await expect(page.locator("#kpi-views .kpi-value")).to_have_text(views)
        for card in ("#kpi-engagement", "#kpi-posts", "#kpi-er", "#kpi-cpm", "#kpi-spend"):
            await expect(page.locator(card)).to_be_visible()
        await expect(page.locator("#growth-chart canvas")).to_have_count(1)
        await expect(page.locator(".booking-grid tbody tr")).to_have_count(4)
        await expect(page.locator(".split-row")).to_have_count(4)  # four platforms
        await expect(page.locator("#campaign-alerts .alert-row").first).to_be_visible()
        # Hashtags and mentions from the captions the provider returned (docs/insights.md).
        await expect(page.locator("#tags-hashtags tbody tr").first).to_be_visible(timeout=20_000)
        await expect(page.locator("#tags-mentions tbody tr").first).to_be_visible()
        await capture(page, "campaign")
        await page.get_by_role("button", name="Daily").click()
        await expect(page.locator("#growth-chart")).to_have_attribute("data-mode", "daily")
        await expect(page.locator("#growth-chart canvas")).to_have_count(1)

        ids = f"{holiday['id']},{campaigns['Autumn Glow Serum']['id']}"
        await page.goto(f"/compare?ids={ids}")
        await expect(page.locator(".compare-table")).to_be_visible()
        await capture(page, "compare")

        # Every screen renders well inside 300 ms of server time on the demo data.
        for path in (
            "/campaigns",
            f"/campaigns/{holiday['id']}",
            f"/campaigns/{holiday['id']}/fragments/numbers",
            f"/compare?ids={ids}",
        ):
            response = await page.request.get(path)
            assert response.ok, path
            timing = response.headers["server-timing"]
            assert float(timing.split("dur=")[1]) < 300, (path, timing)

        await page.goto("/campaigns/00000000-0000-4000-8000-000000000000")
        await expect(page.get_by_text("belongs to another organization")).to_be_visible()
        # The 404 itself is the one expected console line (a failed document load).
        assert [e for e in watched.errors if "404" not in e] == []


async def test_search_and_filters_update_the_list_without_a_reload(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    async with staff_page(browser, demo) as watched:
        page = watched.page
        await _mark(page)
        await page.get_by_label("Search campaigns").fill("trail")
        await expect(page.locator("#campaign-list tbody tr")).to_have_count(1)
        await expect(page.get_by_role("link", name="Winter Trail Collection")).to_be_visible()
        await expect(page).to_have_url(f"{demo.gateway_url}/campaigns?q=trail")
        await page.get_by_label("Search campaigns").fill("")
        await page.get_by_label("Status").select_option("live")
        await expect(page.locator("#campaign-list tbody tr")).to_have_count(2)
        assert await _not_reloaded(page)
        assert watched.errors == []


async def test_compare_two_campaigns_picked_in_the_list(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    async with staff_page(browser, demo) as watched:
        page = watched.page
        compare = page.get_by_role("button", name="Compare")
        await expect(compare).to_be_disabled()
        await page.get_by_label("Compare Holiday Gift Sets").check()
        await expect(compare).to_be_disabled()  # one is not a comparison
        await page.get_by_label("Compare Winter Trail Collection").check()
        await expect(compare).to_be_enabled()
        await compare.click()
        await expect(page).to_have_url(
            f"{demo.gateway_url}/compare?ids={campaigns['Holiday Gift Sets']['id']}"
            f"&ids={campaigns['Winter Trail Collection']['id']}"
        )
        table = page.locator(".compare-table")
        await expect(table.get_by_role("link", name="Holiday Gift Sets")).to_be_visible()
        await expect(table.get_by_role("link", name="Winter Trail Collection")).to_be_visible()
        with demo.api() as api:
            result = api.get(
                "/api/compare",
                params={
                    "ids": f"{campaigns['Holiday Gift Sets']['id']},"
                    f"{campaigns['Winter Trail Collection']['id']}"
                },
            ).json()
        winners = sum(len(ids) for ids in result["winners"].values())
        await expect(page.locator("td.winner")).to_have_count(winners)
        views_row = page.locator("tr", has=page.get_by_role("rowheader", name="Views"))
        best = max(result["campaigns"], key=lambda c: c["actual_views"])
        await expect(views_row.locator("td.winner")).to_contain_text(f"{best['actual_views']:,}")
        assert watched.errors == []


async def test_a_new_sample_reaches_the_open_campaign_page_live(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    campaign = campaigns["Winter Trail Collection"]
    with demo.api() as api:
        token = api.post("/api/tokens", json={"name": "live test", "scopes": ["ingest"]}).json()
        posts = api.get(f"/api/campaigns/{campaign['id']}/posts").json()["items"]
    post = next(p for p in posts if p["latest"])
    async with staff_page(browser, demo) as watched:
        page = watched.page
        await page.goto(f"/campaigns/{campaign['id']}")
        await expect(page.locator("#live-status")).to_have_attribute("data-state", "open")
        before = await page.locator("#kpi-views .kpi-value").inner_text()
        version_before = int(
            await page.locator("#campaign-numbers").get_attribute("data-version") or 0
        )
        await _mark(page)

        latest = post["latest"]
        sample = {
            "post_id": post["id"],
            "observed_at": (utcnow() - timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
            "metrics": {
                "views": latest["views"] + 1_000_000,
                "likes": latest["likes"],
                "comments": latest["comments"],
            },
        }
        async with httpx.AsyncClient(
            base_url=demo.ingest_url, headers={"Authorization": f"Bearer {token['token']}"}
        ) as ingest:
            answer = await ingest.post("/api/ingest/posts", json=sample)
        assert answer.status_code == 200, answer.text
        assert answer.json()["accepted"] == 1

        # The page shows what the API now says, without being reloaded.
        deadline = time.monotonic() + 15
        while True:
            with demo.api() as api:
                now_views = api.get(f"/api/campaigns/{campaign['id']}").json()["kpis"][
                    "actual_views"
                ]
            shown = await page.locator("#kpi-views .kpi-value").inner_text()
            if shown == f"{now_views:,}" and shown != before:
                break
            assert time.monotonic() < deadline, f"page still shows {shown}, API {now_views}"
            await asyncio.sleep(0.3)
        await expect(page.locator("#growth-chart canvas")).to_have_count(1)
        # The numbers on screen carry their version: the newer document's, announced live.
        shown_version = await page.locator("#campaign-numbers").get_attribute("data-version")
        assert int(shown_version or 0) > version_before
        assert await _not_reloaded(page)
        assert watched.errors == []


async def test_the_demo_client_report_mails_itself_with_its_share_link(demo: DemoSystem) -> None:
    """`make dev`'s demo schedules the first live campaign's weekly client report with its
    first one at once: it arrives in the mail sink as a PDF with a working share link, and
    the client's PDF carries no money."""
    found: list[Path] = []
    deadline = time.monotonic() + 120
    while not found and time.monotonic() < deadline:
        found = sorted(demo.mail_dir.glob("*.eml"))
        await asyncio.sleep(1)
    assert found, "no scheduled report was mailed within 2 minutes of seeding"
    mail = email.message_from_bytes(found[0].read_bytes(), policy=email.policy.default)
    assert mail["To"] == "marketing@client.example"
    text, pdf = "", b""
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_content()
        if part.get_content_type() == "application/pdf":
            pdf = part.get_payload(decode=True)
    assert pdf.startswith(b"%PDF-")
    share_url = next(word for word in text.split() if "/share/" in word)
    async with httpx.AsyncClient(timeout=30) as anonymous:
        assert (await anonymous.get(share_url)).status_code == 200
    printed = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "€" not in printed, "the client's report shows money"
    assert "EUR" not in printed, "the client's report shows money"
