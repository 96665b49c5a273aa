"""P9: start tracking — 200 post URLs registered at once, until every post has its first
sample from the fake provider at its default latency (target ≤ 30 s).

A fresh, ordinary agency (not a test organization: ingest pulls its posts) books 20 creators
on one live campaign; then all 200 POST /api/bookings/{id}/posts go out together. Each
registration makes ingest send one high-priority fetch; the provider's answer becomes the
post's first sample, then the campaign's numbers. The gateway's GET /api/campaigns/{id}/posts
is polled every 250 ms, so each post's time to its first visible sample is known to that
resolution; the figure is the last post's. Posts still without a sample at the time limit are
counted as missing.

The design asks for the same through a CSV import. The gateway's only CSV import today is for
metric samples (POST /api/imports/metrics); its OpenAPI document is checked for an import that
registers posts, and without one that variant is reported as not available.
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


async def csv_import_of_posts(api: httpx.AsyncClient) -> str | None:
    """The path of a CSV import that registers posts, if the gateway has one."""
    spec = await ok(api.get("/openapi.json"))
    for path in spec.get("paths", {}):
        if path.startswith("/api/imports") and "post" in path.removeprefix("/api/imports"):
            return str(path)
    return None


async def run(ctx: Context) -> list[Result]:
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
        name="Tracking",
    )
    handles = [handle_of("Tracking", i) for i in range(len(campaign.bookings))]
    targets = [
        (booking, f"https://www.tiktok.com/@{handle}/video/{world.ids.take()}")
        for booking, handle in zip(campaign.bookings, handles, strict=True)
        for _ in range(sizes.track_posts_per_booking)
    ]
    limits = httpx.Limits(max_connections=len(targets), max_keepalive_connections=len(targets))
    first_seen: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=gateway, timeout=60, limits=limits) as api:
        await login(api, agency.email)
        csv_route = await csv_import_of_posts(api)
        started = time.monotonic()
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
    results = [
        Result(
            id="P9-api",
            title=f"Start tracking: {len(post_ids)} posts registered at once (API)",
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
    ]
    if csv_route is None:
        results.append(
            Result(
                id="P9-csv",
                title="Start tracking through a CSV import",
                status="not_available",
                target=f"≤ {TARGET_S:g} s",
                error="not available: the gateway has no CSV import that registers posts "
                "(only POST /api/imports/metrics, for samples)",
            )
        )
    else:
        results.append(
            Result(
                id="P9-csv",
                title="Start tracking through a CSV import",
                status="not_available",
                target=f"≤ {TARGET_S:g} s",
                error=f"the gateway now has {csv_route}: teach bench/scenarios/"
                "p9_start_tracking.py its upload shape",
            )
        )
    return results
