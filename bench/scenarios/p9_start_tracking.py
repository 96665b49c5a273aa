"""P9: start tracking — 200 post URLs registered at once, until every post has its first
sample from the fake provider at its default latency (target ≤ 30 s).

A fresh, ordinary agency (not a test organization: ingest pulls its posts) books 20 creators
on one live campaign; then all 200 POST /api/bookings/{id}/posts go out together. Each
registration makes ingest send one high-priority fetch; the provider's answer becomes the
post's first sample, then the campaign's numbers. The gateway's GET /api/campaigns/{id}/posts
is polled every 250 ms, so each post's time to its first visible sample is known to that
resolution; the figure is the last post's. Posts still without a sample at the time limit are
counted as missing.

The same again through a CSV import (POST /api/imports/posts, one sheet of booking_id,url rows
for 200 posts) on a campaign of its own: the clock starts when the upload is sent.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ..api import login, ok
from ..catalog import Booking, build_campaigns, handle_of
from ..stats import Latency, Result
from . import Context

TARGET_S = 30.0
POLL_S = 0.25


async def posts_with_sample(api: httpx.AsyncClient, campaign_id: str) -> set[str]:
    found: set[str] = set()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await ok(api.get(f"/api/campaigns/{campaign_id}/posts", params=params))
        found |= {str(p["id"]) for p in page["items"] if p.get("latest")}
        cursor = page.get("next_cursor")
        if not cursor:
            return found


async def register(api: httpx.AsyncClient, booking: Booking, url: str) -> str:
    made = await ok(api.post(f"/api/bookings/{booking.id}/posts", json={"url": url}))
    post_id: str = made["id"]
    return post_id


async def register_sheet(api: httpx.AsyncClient, targets: list[tuple[Booking, str]]) -> list[str]:
    sheet = "booking_id,url\n" + "".join(f"{b.id},{url}\n" for b, url in targets)
    files = {"file": ("posts.csv", sheet.encode(), "text/csv")}
    result = await ok(api.post("/api/imports/posts", files=files))
    if result["rejected"] or result["already_tracked"]:
        raise RuntimeError(f"the posts import refused rows: {result['errors'][:3]}")
    return [str(p["id"]) for p in result["posts"]]


async def run(ctx: Context) -> list[Result]:
    return [await track(ctx, via="api"), await track(ctx, via="csv")]


async def track(ctx: Context, *, via: str) -> Result:
    world, sizes = ctx.world, ctx.world.sizes
    gateway = world.system.url("gateway")
    agency = world.tracking
    today = datetime.now(UTC).date()
    (campaign,) = await build_campaigns(
        agency,
        gateway,
        campaigns=1,
        bookings=sizes.track_bookings,
        posts_per_booking=0,
        start=today - timedelta(days=1),
        end=today + timedelta(days=30),
        ids=world.ids,
        concurrency=sizes.seed_concurrency,
        name=f"Tracking{via.capitalize()}",
    )
    handles = [handle_of(f"Tracking{via.capitalize()}", i) for i in range(len(campaign.bookings))]
    targets = [
        (booking, f"https://www.tiktok.com/@{handle}/video/{world.ids.take()}")
        for booking, handle in zip(campaign.bookings, handles, strict=True)
        for _ in range(sizes.track_posts_per_booking)
    ]
    limits = httpx.Limits(max_connections=len(targets), max_keepalive_connections=len(targets))
    first_seen: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=gateway, timeout=60, limits=limits) as api:
        await login(api, agency.email)
        started = time.monotonic()
        if via == "csv":
            post_ids = await register_sheet(api, targets)
        else:
            post_ids = await asyncio.gather(*(register(api, b, url) for b, url in targets))
        registered_s = time.monotonic() - started
        deadline = started + sizes.track_timeout_s
        while len(first_seen) < len(post_ids) and time.monotonic() < deadline:
            now = time.monotonic() - started
            for post_id in await posts_with_sample(api, campaign.id):
                first_seen.setdefault(post_id, now)
            await asyncio.sleep(POLL_S)
    missing = len(post_ids) - len(first_seen)
    done_s = max(first_seen.values()) if first_seen else None
    return Result(
        id=f"P9-{via}",
        title=f"Start tracking: {len(post_ids)} posts registered at once "
        f"({'API' if via == 'api' else 'CSV import'})",
        figure=round(done_s, 1) if done_s is not None and not missing else None,
        unit="s until every post has a sample",
        target=f"≤ {TARGET_S:g} s",
        met=done_s is not None and not missing and done_s <= TARGET_S,
        latency=Latency.of(list(first_seen.values())),
        missing=missing,
        counts={"posts": len(post_ids), "with_sample": len(first_seen)},
        details={
            "registration_seconds": round(registered_s, 2),
            "time_limit_s": sizes.track_timeout_s,
            "poll_interval_s": POLL_S,
            "without_sample_at_limit": missing,
        },
    )
