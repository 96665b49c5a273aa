"""The client's view of a real share link: the same numbers as the staff API after the same
kpi.updated, and a page that works in a real browser on a desktop and on a phone."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Route

from pulse_contracts import utcnow
from pulse_contracts.numbers import timeline_pct
from pulse_report.formats import fmt_number, fmt_pct
from tests.support.browser import watched_page
from tests.support.reported_campaign import (
    AVATAR,
    THUMB,
    ReportedCampaign,
    reported_campaign,
    reporting_services,
)
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration
# A 1×1 PNG: what the media route answers in the browser test, where no CDN is reachable.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005050200"
    "5fc8f1d20000000049454e44ae426082"
)
COUNTS = (
    "committed_views",
    "committed_engagement",
    "committed_posts",
    "actual_views",
    "actual_engagement",
    "actual_posts",
)
PCTS = ("views_pct", "engagement_pct", "posts_pct", "kpi_pct", "engagement_rate")


@pytest.fixture(scope="module")
def procs(service_env: dict[str, str]) -> Iterator[dict[str, ServiceProcess]]:
    with reporting_services(service_env) as started:
        yield started


@pytest.fixture(scope="module")
async def world(
    procs: dict[str, ServiceProcess], service_env: dict[str, str]
) -> AsyncIterator[ReportedCampaign]:
    found = await reported_campaign(procs, service_env)
    yield found
    await found.staff.aclose()
    await found.stranger.aclose()


async def test_the_client_sees_the_staff_numbers_to_the_unit(world: ReportedCampaign) -> None:
    before = utcnow()
    staff = (await world.staff.get(f"/api/campaigns/{world.campaign_id}")).json()
    async with httpx.AsyncClient(base_url=world.share_url, timeout=30) as anonymous:
        shared = (await anonymous.get(f"/api/share/{world.share_token}")).json()
        html = (await anonymous.get(f"/share/{world.share_token}")).text
    after = utcnow()
    ours, theirs = staff["kpis"], shared["kpis"]
    assert ours["actual_views"] == 1_234_567 + 345_678 + 222_222
    for name in COUNTS + PCTS:
        assert theirs[name] == ours[name], name
    # timeline_pct moves with the clock: both are readings of the same rule within the test.
    start, end = (staff[k] for k in ("start_date", "end_date"))
    low, high = (
        timeline_pct(*(type(before.date()).fromisoformat(d) for d in (start, end)), t)
        for t in (before, after)
    )
    assert low is not None
    assert high is not None
    assert low <= ours["timeline_pct"] <= high
    assert low <= theirs["timeline_pct"] <= high

    # The page prints those very numbers.
    for name in COUNTS:
        if ours[name] is not None:
            assert fmt_number(ours[name]) in html, name
    for name in PCTS:
        assert fmt_pct(ours[name]) in html, name
    assert fmt_pct(theirs["timeline_pct"]) in html


async def test_images_come_through_the_links_own_media_route(world: ReportedCampaign) -> None:
    token = world.share_token
    async with httpx.AsyncClient(base_url=world.share_url, timeout=30) as anonymous:
        page = await anonymous.get(f"/share/{token}")
        srcs = re.findall(r'<img[^>]* src="([^"]*)"', page.text)
        assert page.headers["content-security-policy"].startswith(
            "default-src 'none'; img-src 'self';"
        )
        # The avatar and the thumbnail, through the proxy; the logo is not on a platform CDN,
        # so the proxy would refuse it and the page shows no broken image for it.
        proxied = {parse_qs(urlsplit(s.replace("&amp;", "&")).query)["url"][0] for s in srcs}
        assert proxied == {AVATAR, THUMB}
        assert all(s.startswith(f"/share/{token}/media?url=") for s in srcs)
        assert "brand.example" not in " ".join(srcs)

        # Anything that is not in this link's projection is the link's 404: no open proxy.
        for url in ("https://p16.tiktokcdn.com/someone-else.jpeg", "http://169.254.169.254/"):
            r = await anonymous.get(f"/share/{token}/media", params={"url": url})
            assert r.status_code == 404
            assert r.json()["error"]["code"] == "not_found"
            assert r.headers["cache-control"] == "private, no-store"
            assert r.headers["referrer-policy"] == "no-referrer"
        unknown = await anonymous.get("/share/not-a-token/media", params={"url": THUMB})
        assert unknown.status_code == 404
        assert unknown.content == r.content


async def test_the_client_view_in_a_browser_on_desktop_and_phone(
    world: ReportedCampaign, browser: Browser
) -> None:
    proxied: list[str] = []

    async def cdn(route: Route) -> None:
        # No CDN is reachable from the test machine: the browser's request to the link's own
        # media route is answered here (the proxy itself has its own tests).
        proxied.append(route.request.url)
        await route.fulfill(status=200, content_type="image/png", body=PIXEL)

    for name, viewport in (("desktop", (1440, 900)), ("phone", (390, 844))):
        async with watched_page(browser, viewport=viewport, base_url=world.share_url) as watched:
            page = watched.page
            await page.route(re.compile(r"/share/[^/]+/media\?"), cdn)
            response = await page.goto(f"/share/{world.share_token}", wait_until="networkidle")
            assert response is not None
            assert response.status == 200
            await page.get_by_role("heading", name="Glow Serum Launch").wait_for()
            assert await page.get_by_role("heading", name="Glow Serum Launch").is_visible()
            cards = page.locator("section[aria-labelledby=kpis-title] li.card")
            assert await cards.count() == 6
            for i in range(6):
                assert await cards.nth(i).is_visible()
            assert await cards.first.locator(".figure").inner_text() == fmt_number(
                1_234_567 + 345_678 + 222_222
            )
            creators = page.locator("ul.creators > li.creator")
            assert await creators.count() == 2
            assert await creators.first.get_by_role("heading", name="Maya Styles").is_visible()
            assert await creators.nth(1).get_by_role("heading", name="Leo Runs").is_visible()
            assert await page.get_by_role("link", name=re.compile("Download the report")).count()
            # No horizontal scrolling: the layout fits the viewport's width.
            widths = await page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert widths[0] <= widths[1], (name, widths)
            await page.screenshot(path=watched.screenshot_path(f"share-client-view-{name}"))
            await page.screenshot(
                path=watched.screenshot_path(f"share-client-view-{name}-full"), full_page=True
            )
            assert watched.errors == [], watched.errors
    assert proxied  # the images were asked of the link's own media route
