"""What a user notices beyond "it loads", on the demo agency in a real browser (system Chromium):
every screen passes axe-core with no serious or critical violation and fits a 390 px phone, the
charts answer a hover with the day's numbers, and both PDFs print their bars and charts in the
campaign's colours at the right lengths (rasterised with pdftoppm). Phone screenshots go to
docs/screenshots/ next to the desktop ones."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from pulse_contracts import utcnow
from tests.support.browser import ARTIFACTS, watched_page
from tests.support.demo import (
    SCREENSHOTS,
    DemoSystem,
    staff_page,
    stand_in_image,
)
from tests.support.raster import bars, blend, count_near, dark_share, hex_rgb, rasterise

pytestmark = pytest.mark.system

AXE = Path(__file__).resolve().parents[1] / "support" / "vendor" / "axe.min.js"
PHONE = (390, 844)
DESKTOP = (1440, 900)


@pytest.fixture(scope="module")
def share_url(demo: DemoSystem, campaigns: dict[str, dict[str, Any]]) -> str:
    holiday = campaigns["Holiday Gift Sets"]
    with demo.api() as api:
        expires = (utcnow() + timedelta(days=30)).isoformat()
        created = api.post(
            f"/api/campaigns/{holiday['id']}/share-links", json={"expires_at": expires}
        )
        assert created.status_code == 201, created.text
        url: str = created.json()["url"]
    return url


def staff_screens(demo: DemoSystem, campaigns: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """Every staff screen (name for the screenshot, path)."""
    holiday = campaigns["Holiday Gift Sets"]
    autumn = campaigns["Autumn Glow Serum"]
    with demo.api() as api:
        bookings = api.get(f"/api/campaigns/{holiday['id']}/bookings").json()["items"]
    booked = next(b for b in bookings if b["kpis"])
    return [
        ("campaigns", "/campaigns"),
        ("campaign", f"/campaigns/{holiday['id']}"),
        ("compare", f"/compare?ids={holiday['id']},{autumn['id']}"),
        ("influencers", "/influencers"),
        ("influencer", f"/influencers/{booked['influencer_id']}"),
        ("alerts", "/alerts"),
        ("clients", "/clients"),
        ("architecture", "/docs/architecture"),
        ("users", "/settings/users"),
        ("tokens", "/settings/tokens"),
        ("alert-thresholds", "/settings/alerts"),
        ("api-limit", "/settings/api-limit"),
        ("notifications", "/settings/notifications"),
        ("campaign-form", "/campaigns/new"),
        ("client-form", "/clients/new"),
        ("influencer-form", "/influencers/new"),
        ("booking-form", f"/campaigns/{holiday['id']}/bookings/new"),
        ("post-form", f"/bookings/{booked['id']}/posts/new"),
        ("share-links", f"/campaigns/{holiday['id']}/share-links"),
        ("reports", "/reports"),
        ("runs", "/runs"),
        ("rejected-items", "/rejected-items"),
        ("health", "/red-flags"),
        ("report-schedule", f"/campaigns/{holiday['id']}/report-schedule"),
        ("not-found", "/campaigns/00000000-0000-4000-8000-000000000000"),
    ]


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now. Evaluated through
    the browser's devtools protocol, which the page's CSP does not govern (axe is a test tool,
    never served)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
             .filter(v => v.impact === "serious" || v.impact === "critical")
             .map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")
                                                                   + " " + n.failureSummary)}))"""
    )
    return [f"{v['id']}: {v['nodes']}" for v in found]


async def overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (a sideways scroll on a phone)."""
    width: int = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


async def settle(page: Page) -> None:
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(150)  # charts draw after load; htmx settles after swaps


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_every_screen_passes_axe_and_fits_the_window(
    browser: Browser,
    demo: DemoSystem,
    campaigns: dict[str, dict[str, Any]],
    share_url: str,
    size: str,
) -> None:
    viewport = PHONE if size == "phone" else DESKTOP
    suffix = "-phone" if size == "phone" else ""
    problems: dict[str, list[str]] = {}
    too_wide: dict[str, int] = {}

    async def check(page: Page, name: str) -> None:
        await settle(page)
        found = await serious_violations(page)
        if found:
            problems[name] = found
        extra = await overflow(page)
        if extra > 0:
            too_wide[name] = extra
        if size == "phone" or name in ("share", "not-found"):  # the rest: the other modules
            await page.screenshot(path=SCREENSHOTS / f"{name}{suffix}.png")

    async with watched_page(browser, viewport=viewport, base_url=demo.gateway_url) as anonymous:
        await anonymous.page.goto("/login")
        await check(anonymous.page, "login")

    async with watched_page(browser, viewport=viewport) as client:
        await client.page.route(re.compile(r"/share/[^/]+/media"), stand_in_image)
        await client.page.route(re.compile(r"/favicon\.ico$"), stand_in_image)
        await client.page.goto(share_url)
        await expect(client.page.get_by_role("heading", level=1)).to_contain_text(
            "Holiday Gift Sets"
        )
        await check(client.page, "share")
        assert client.errors == []

    async with staff_page(browser, demo) as watched:
        page = watched.page
        await page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        for name, path in staff_screens(demo, campaigns):
            await page.goto(path)
            await check(page, name)
        # The 404 is the one expected console line (a failed document load).
        assert [e for e in watched.errors if "404" not in e] == []
    assert problems == {}, problems
    assert too_wide == {}, f"wider than a {viewport[0]} px window: {too_wide}"


async def test_the_reports_screen_prepares_a_report_and_offers_its_download(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    """From the campaign's PDF button and from the form: each report is listed as it is
    prepared (the list refreshes itself) and offers its download once done."""
    holiday = campaigns["Holiday Gift Sets"]
    async with staff_page(browser, demo) as watched:
        page = watched.page
        await page.goto(f"/campaigns/{holiday['id']}")
        await page.get_by_role("button", name="PDF report").click()
        await expect(page).to_have_url(f"{demo.gateway_url}/reports")
        await expect(page.get_by_role("link", name="Reports")).to_have_attribute(
            "aria-current", "page"
        )
        row = page.locator("#report-list tbody tr").first
        await expect(row).to_contain_text("Holiday Gift Sets")
        await expect(row.get_by_role("link", name="Download")).to_be_visible(timeout=240_000)
        async with page.expect_download() as waiting:
            await row.get_by_role("link", name="Download").click()
        download = await waiting.value
        assert download.suggested_filename == "holiday-gift-sets-report.pdf"

        # A refused form comes back with the reason and what was chosen.
        await page.locator("#report-form").get_by_role("button", name="Prepare report").click()
        await expect(page.locator("#report-problem")).to_contain_text("Pick at least one campaign")

        form = page.locator("#report-form")
        await form.get_by_label("Holiday Gift Sets").check()
        await form.locator("#r-format").select_option("csv")
        await form.get_by_role("button", name="Prepare report").click()
        await expect(page).to_have_url(f"{demo.gateway_url}/reports")
        csv_row = page.locator("#report-list tbody tr").first
        await expect(csv_row).to_contain_text("CSV")
        await expect(csv_row.get_by_role("link", name="Download")).to_be_visible(timeout=240_000)
        # The list stops refreshing itself once nothing is being prepared; until then its
        # 2 s refresh, slow on a loaded machine, may never leave the network idle to settle.
        await expect(page.locator("#report-list")).not_to_have_attribute("hx-trigger", "every 2s")
        for width, suffix in ((1280, ""), (390, "-phone")):
            await page.set_viewport_size({"width": width, "height": 844})
            await settle(page)
            await page.screenshot(path=SCREENSHOTS / f"reports-list{suffix}.png", full_page=True)
        assert [e for e in watched.errors if "404" not in e] == []


async def test_on_a_phone_the_influencer_grid_shows_kpi_and_every_column(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    holiday = campaigns["Holiday Gift Sets"]
    async with staff_page(browser, demo) as watched:
        page = watched.page
        await page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        await page.goto(f"/campaigns/{holiday['id']}")
        await expect(page.locator("#live-status")).to_have_attribute("data-state", "open")
        row = page.locator(".booking-grid tbody tr").first
        for column in ("KPI", "Fee", "CPM", "Posts"):
            cell = row.locator(f'td[data-label="{column}"]')
            await expect(cell).to_be_visible()
            # Measured in one step: a live update may swap the grid between two.
            left, right = await cell.evaluate(
                "el => { const r = el.getBoundingClientRect(); return [r.left, r.right]; }"
            )
            assert left >= 0, column
            assert right <= PHONE[0], column
        await expect(row.locator("td.col-kpi .kpi-vs-value")).to_have_text(re.compile(r"%$"))

        # An open alert's message reads across the card, not in a column between the severity
        # badge and the Triage button (a few words a line at 390 px before).
        alert = page.locator("#campaign-alerts .alert-row").first
        await expect(alert).to_be_visible()
        message, whole = await alert.evaluate(
            """el => [el.querySelector('.alert-message').getBoundingClientRect().width,
                      el.getBoundingClientRect().width]"""
        )
        assert message >= 0.85 * whole, (message, whole)

        await page.goto("/alerts")
        first = page.locator(".alerts-table tbody tr").first
        for column in ("Raised", "Status"):
            await expect(first.locator(f'td[data-label="{column}"]')).to_be_in_viewport()
        assert watched.errors == []


async def test_the_campaign_alerts_card_links_each_post_alert_to_its_post(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    """A creator's posts read alike in alert messages (the demo's Holiday Gift Sets has one
    creator's posts going viral together): each post alert's row links to its own post."""
    holiday = campaigns["Holiday Gift Sets"]
    with demo.api() as api:
        open_alerts = api.get(
            "/api/alerts", params={"status": "open", "campaign_id": holiday["id"]}
        ).json()["items"]
        posts = api.get(f"/api/campaigns/{holiday['id']}/posts").json()["items"]
    url_of = {p["id"]: p["url"] for p in posts}
    post_alerts = {a["id"]: url_of[a["post_id"]] for a in open_alerts if a["post_id"]}
    assert len(set(post_alerts.values())) >= 2, "the demo should have alerts on several posts"
    async with staff_page(browser, demo) as watched:
        page = watched.page
        await page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
        for path in (f"/campaigns/{holiday['id']}", f"/campaigns/{holiday['id']}/fragments/alerts"):
            await page.goto(path)
            rows = page.locator("#campaign-alerts .alert-row")
            await expect(rows.first).to_be_visible()
            for row in await rows.all():
                alert_id = await row.get_attribute("data-alert-id")
                link = row.get_by_role("link", name="Open the post (new tab)")
                if alert_id in post_alerts:
                    await expect(link).to_have_attribute("href", post_alerts[alert_id])
                    await expect(link).to_have_attribute("target", "_blank")
                else:
                    await expect(link).to_have_count(0)
        assert watched.errors == []


async def test_the_staff_chart_has_one_axis_from_zero_tooltips_and_its_own_daily_scale(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    holiday = campaigns["Holiday Gift Sets"]
    with demo.api() as api:
        daily = api.get(f"/api/campaigns/{holiday['id']}/daily").json()["items"]
    total_top = max(d["views_cum"] for d in daily)
    daily_top = max(d["views_delta"] for d in daily)
    async with staff_page(browser, demo) as watched:
        page = watched.page
        await page.goto(f"/campaigns/{holiday['id']}")
        # Once the stream is open the page catches up (and redraws the chart) once: hover after.
        await expect(page.locator("#live-status")).to_have_attribute("data-state", "open")
        await page.wait_for_load_state("networkidle")
        chart = page.locator("#growth-chart")
        await expect(chart.locator("canvas")).to_have_count(1)
        await expect(chart.locator(".u-axis")).to_have_count(2)  # days and one y-axis
        cumulative_max = float(await chart.get_attribute("data-axis-max") or 0)
        assert total_top <= cumulative_max < 2.1 * total_top

        tip = chart.locator(".chart-tip")
        last = await hover_last_day(page, chart, "views_cum")
        await expect(tip).to_contain_text(f"{last:,} views")
        await expect(tip).to_contain_text(re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}"))

        await page.get_by_role("button", name="Daily").click()
        await expect(chart).to_have_attribute("data-mode", "daily")
        daily_max = float(await chart.get_attribute("data-axis-max") or 0)
        assert daily_top <= daily_max < 2.1 * daily_top  # its own scale, not the total's
        last_new = await hover_last_day(page, chart, "views_delta")
        await expect(tip).to_contain_text(f"+{last_new:,} new views")
        await capture_named(page, "campaign-chart-tooltip")

        # A period, against the one before it.
        await page.get_by_label("Period").select_option("7")
        summary = page.locator("[data-period-summary]")
        recent = sum(d["views_delta"] for d in daily[-7:])
        await expect(summary).to_contain_text(f"Last 7 days: {recent:,} new views")
        if len(daily) >= 14 and sum(d["views_delta"] for d in daily[-14:-7]):
            await expect(summary).to_contain_text("vs the 7 days before")
        await expect(chart).to_have_attribute("data-days", str(min(7, len(daily))))
        assert watched.errors == []


async def hover_last_day(page: Page, chart: Locator, series: str) -> int:
    """Point at the chart's last day until its tooltip shows (a live update may redraw the
    chart under the pointer); the value the chart plots for that day."""
    for attempt in range(5):
        box = await chart.locator(".u-over").bounding_box()
        assert box is not None
        await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        await page.mouse.move(box["x"] + box["width"] - 2 - attempt, box["y"] + box["height"] / 2)
        if await chart.locator(".chart-tip").is_visible():
            break
        await page.wait_for_timeout(300)
    await expect(chart.locator(".chart-tip")).to_be_visible()
    plotted: int = await chart.evaluate(f"el => JSON.parse(el.dataset.series).{series}.at(-1)")
    return plotted


async def test_the_share_chart_shows_a_day_on_hover_and_bars_on_their_own_axis(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]], share_url: str
) -> None:
    holiday = campaigns["Holiday Gift Sets"]
    with demo.api() as api:
        daily = api.get(f"/api/campaigns/{holiday['id']}/daily").json()["items"]
        platforms = api.get(f"/api/campaigns/{holiday['id']}/platforms").json()["items"]
    async with watched_page(browser) as client:
        page = client.page
        await page.route(re.compile(r"/share/[^/]+/media"), stand_in_image)
        await page.route(re.compile(r"/favicon\.ico$"), stand_in_image)
        await page.goto(share_url)
        chart = page.locator("svg.chart-wide")
        await expect(chart.locator("text", has_text="New views per day")).to_have_count(1)
        days = chart.locator(".day")
        await expect(days).to_have_count(len(daily))
        tip = days.last.locator(".tip")
        await expect(tip).to_be_hidden()
        await days.last.locator(".hit").hover()
        await expect(tip).to_be_visible()
        await expect(tip).to_contain_text(f"+{daily[-1]['views_delta']:,} new that day")
        # Platforms biggest first, each bar as long as its share.
        names = await page.locator(".platform-row").evaluate_all(
            "rows => rows.map(r => r.dataset.platform)"
        )
        assert names == [
            p["platform"] for p in sorted(platforms, key=lambda p: (-p["views"], p["platform"]))
        ]
        await page.screenshot(path=SCREENSHOTS / "share-chart-tooltip.png")

        # A period, against the one before it, without any script on the page.
        await page.get_by_role("link", name="Last 7 days").click()
        recent = sum(d["views_delta"] for d in daily[-7:])
        await expect(page.locator(".period-summary")).to_contain_text(
            f"Last 7 days: {recent:,} new views"
        )
        await expect(page.locator("svg.chart-wide .day")).to_have_count(min(7, len(daily)))
        assert client.errors == []


async def capture_named(page: Page, name: str) -> None:
    await page.screenshot(path=SCREENSHOTS / f"{name}.png")


@pytest.mark.parametrize("audience", ["client", "staff"])
async def test_both_pdfs_print_bars_and_charts_in_colour_at_their_true_length(
    demo: DemoSystem, campaigns: dict[str, dict[str, Any]], share_url: str, audience: str
) -> None:
    holiday = campaigns["Holiday Gift Sets"]
    with demo.api() as api:
        clients = {c["id"]: c for c in api.get("/api/clients").json()["items"]}
        platforms = api.get(f"/api/campaigns/{holiday['id']}/platforms").json()["items"]
        # Both are report jobs now: asked, prepared by the reporter, then downloaded.
        if audience == "staff":
            asked = api.post(f"/api/campaigns/{holiday['id']}/report")
            assert asked.status_code == 202, asked.text[:300]
            location = asked.headers["location"]
            for _ in range(1200):
                job = api.get(location).json()
                assert job["status"] != "failed", job
                if job["status"] == "done":
                    break
                await asyncio.sleep(0.2)
            answer = api.get(job["download_url"], timeout=60)
        else:
            for _ in range(1200):
                answer = api.get(f"{share_url}/report.pdf", timeout=60)
                if answer.status_code != 202:
                    break
                assert "Preparing your report" in answer.text
                await asyncio.sleep(0.2)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"] == "application/pdf"
    pages = rasterise(answer.content, keep_as=ARTIFACTS / f"pdf-{audience}.png")
    brand = hex_rgb(clients[holiday["client_id"]]["brand_color"])

    assert sum(count_near(p, brand, 16) for p in pages) > 3_000, "no bar in the brand colour"
    assert sum(count_near(p, blend(brand, 0.75), 16) for p in pages) > 500, "no daily bars"
    assert max(dark_share(p) for p in pages) < 0.04, "a page is mostly black"
    total = sum(p["views"] for p in platforms)
    measured = [round(b.pct, 2) for p in pages for b in bars(p, brand)]
    for platform in platforms:
        share = 100 * platform["views"] / total
        assert any(abs(m - share) <= 1.5 for m in measured), (platform, share, measured)


async def test_alert_triage_groups_lookalikes_resolves_one_row_and_counts_in_the_nav(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    with demo.api() as api:
        open_alerts = api.get("/api/alerts", params={"status": "open"}).json()["items"]
    async with staff_page(browser, demo) as watched:
        page = watched.page
        await page.goto("/alerts")
        badge = page.locator("#nav-alert-count")
        await expect(badge).to_have_text(str(len(open_alerts)))

        lookalikes: dict[tuple[Any, ...], int] = {}
        for a in open_alerts:
            if a["booking_id"]:
                key = (a["type"], a["booking_id"])
                lookalikes[key] = lookalikes.get(key, 0) + 1
        folded = sum(n - 1 for n in lookalikes.values())
        await expect(page.locator("tr.alert-member")).to_have_count(folded)
        toggles = page.locator("[data-toggle-group]")
        if folded:
            await toggles.first.click()
            group = await toggles.first.get_attribute("data-toggle-group")
            await expect(
                page.locator(f'tr.alert-member[data-group="{group}"]').first
            ).to_be_visible()

        row = page.locator('.alerts-table tr[data-status="open"]:not([hidden])').first
        alert_id = await row.get_attribute("data-alert-id")
        await row.get_by_role("button", name="Resolve this alert").click()
        await expect(page.locator("#resolve-result")).to_have_text("1 alert resolved.")
        await expect(page.locator(f"#alert-{alert_id}")).to_have_count(0)
        await expect(badge).to_have_text(str(len(open_alerts) - 1))
        with demo.api() as api:
            still_open = api.get("/api/alerts", params={"status": "open"}).json()["items"]
        assert len(still_open) == len(open_alerts) - 1
        assert alert_id not in {a["id"] for a in still_open}

        # Snoozed: off the list for a day, still open (the alerter keeps it), one click away.
        row = page.locator('.alerts-table tr[data-status="open"]:not([hidden])').first
        snoozed_id = await row.get_attribute("data-alert-id")
        await row.get_by_role("button", name="Snooze 1 day for this alert").click()
        await expect(page.locator("#snooze-result")).to_contain_text("Snoozed until")
        await expect(page.locator(f"#alert-{snoozed_id}")).to_have_count(0)
        await expect(page.locator(".snoozed-hint")).to_contain_text("1 snoozed alert not shown")
        await page.get_by_role("link", name="show it").click()
        await expect(page.locator(f"#alert-{snoozed_id}")).to_contain_text("snoozed until")
        with demo.api() as api:
            assert api.get(f"/api/alerts/{snoozed_id}").json()["status"] == "open"
        assert watched.errors == []


async def test_lists_sort_by_a_column_and_export_what_they_show(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    async with staff_page(browser, demo) as watched:
        page = watched.page
        await page.goto("/campaigns")
        await page.get_by_role("button", name="Views").click()
        names = await page.locator("#campaign-list tbody .row-title").all_inner_texts()
        views = {n: (c["kpis"] or {}).get("actual_views") or 0 for n, c in campaigns.items()}
        shown = [views[n] for n in names]
        assert shown == sorted(shown, reverse=True)
        await expect(page.locator("th[aria-sort=descending]")).to_contain_text("Views")

        async with page.expect_download() as download_info:
            await page.get_by_role("button", name="Export CSV").click()
        download = await download_info.value
        path = await download.path()
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("Campaign,Status,")
        assert [line.split(",")[0] for line in lines[1:]] == names

        await page.goto("/influencers?platform=youtube")
        rows = page.locator("#influencer-list tbody tr")
        await expect(rows.first).to_be_visible()
        for handles in await rows.locator(".handle-list").all_inner_texts():
            assert "YouTube" in handles
        assert watched.errors == []


async def test_the_client_report_screen_shows_the_schedule_what_was_sent_and_takes_changes(
    browser: Browser, demo: DemoSystem, campaigns: dict[str, dict[str, Any]]
) -> None:
    """The demo mails one campaign's client report weekly: from the campaign page, the Client
    report screen shows the schedule and, once sent, the delivery; a wrong address is named
    beside the field, a right one is saved."""
    with demo.api() as api:
        scheduled = next(
            c
            for c in campaigns.values()
            if api.get(f"/api/campaigns/{c['id']}/report-schedule").json()["schedule"]
        )
    async with staff_page(browser, demo) as watched:
        page = watched.page
        await page.goto(f"/campaigns/{scheduled['id']}")
        await page.get_by_role("link", name="Client report").click()
        await expect(page).to_have_url(
            f"{demo.gateway_url}/campaigns/{scheduled['id']}/report-schedule"
        )
        form = page.locator("#schedule-form")
        await expect(form.get_by_label("How often")).to_have_value("weekly")
        await expect(form.get_by_label("Send to")).to_have_value("marketing@client.example")
        sent = page.locator('.delivery-table tbody tr[data-state="sent"]')
        for _ in range(60):  # the demo's first report goes out once its numbers are in
            if await sent.count():
                break
            await page.wait_for_timeout(2000)
            await page.reload()
        await expect(sent.first).to_contain_text("marketing@client.example")

        await form.get_by_label("Send to").fill("marketing@client.example\nnot-an-address")
        await form.get_by_role("button", name="Save").click()
        await expect(page.locator("#e-recipients")).to_contain_text("“not-an-address”")
        form = page.locator("#schedule-form")
        await form.get_by_label("Send to").fill("marketing@client.example, cmo@client.example")
        await form.get_by_label("How often").select_option("monthly")
        await form.get_by_role("button", name="Save").click()
        await expect(page.locator("#schedule-saved")).to_be_visible()
        await expect(page.locator("#schedule-form").get_by_label("Send to")).to_have_value(
            "marketing@client.example\ncmo@client.example"
        )
        for width, suffix in ((1280, ""), (390, "-phone")):
            await page.set_viewport_size({"width": width, "height": 844})
            await settle(page)
            await page.screenshot(
                path=SCREENSHOTS / f"report-schedule-saved{suffix}.png", full_page=True
            )
        assert watched.errors == []
    with demo.api() as api:
        schedule = api.get(f"/api/campaigns/{scheduled['id']}/report-schedule").json()["schedule"]
    assert schedule["cadence"] == "monthly"
    assert schedule["recipients"] == ["marketing@client.example", "cmo@client.example"]
