"""Catalog rows and events for tests that read numbers through the gateway: what the gateway's
catalog routes would have written for a scenario, the catalog events the other services learn
it from, and a poll helper."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import asyncpg

from pulse_contracts import EventData, utcnow
from pulse_contracts.catalog import BookingUpserted, CampaignUpserted, PostRegistered

from .scenario import Scenario

T = TypeVar("T")


def catalog_events(scenario: Scenario) -> list[EventData]:
    stamp = utcnow() - timedelta(days=20)
    return [
        CampaignUpserted(**scenario.campaign, updated_at=stamp),
        *[BookingUpserted(**b, updated_at=stamp) for b in scenario.bookings],
        *[
            PostRegistered(
                id=p["id"],
                booking_id=p["booking_id"],
                campaign_id=p["campaign_id"],
                platform=p["platform"],
                url=p["url"],
                platform_post_id=p["platform_post_id"],
                registered_at=stamp,
            )
            for p in scenario.posts
        ],
    ]


async def write_catalog(conn: asyncpg.Connection, scenario: Scenario, names: list[str]) -> None:
    """The rows the gateway's catalog routes would have written (they are built elsewhere)."""
    org, c = scenario.org_id, scenario.campaign
    await conn.execute(
        "INSERT INTO catalog.clients (id, org_id, name) VALUES ($1, $2, $3)",
        c["client_id"],
        org,
        "Lumen Beauty",
    )
    await conn.execute(
        "INSERT INTO catalog.campaigns (id, org_id, client_id, name, status, start_date, "
        "end_date, budget_cents, currency, committed_views, committed_engagement) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        c["id"],
        org,
        c["client_id"],
        c["name"],
        c["status"],
        c["start_date"],
        c["end_date"],
        c["budget_cents"],
        c["currency"],
        c["committed_views"],
        c["committed_engagement"],
    )
    for booking, name in zip(scenario.bookings, names, strict=True):
        await conn.execute(
            "INSERT INTO catalog.influencers (id, org_id, display_name) VALUES ($1, $2, $3)",
            booking["influencer_id"],
            org,
            name,
        )
        await conn.execute(
            "INSERT INTO catalog.influencer_handles (influencer_id, org_id, platform, handle, "
            "followers) VALUES ($1, $2, 'tiktok', $3, 120000)",
            booking["influencer_id"],
            org,
            f"@creator{booking['influencer_id'].hex[:6]}",
        )
        await conn.execute(
            "INSERT INTO catalog.bookings (id, org_id, campaign_id, influencer_id, fee_cents, "
            "committed_views, committed_engagement, committed_posts, min_engagement_rate) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            booking["id"],
            org,
            booking["campaign_id"],
            booking["influencer_id"],
            booking["fee_cents"],
            booking["committed_views"],
            booking["committed_engagement"],
            booking["committed_posts"],
            booking["min_engagement_rate"],
        )
    for post in scenario.posts:
        await conn.execute(
            "INSERT INTO catalog.posts (id, org_id, booking_id, campaign_id, platform, url, "
            "platform_post_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            post["id"],
            org,
            post["booking_id"],
            post["campaign_id"],
            post["platform"],
            post["url"],
            post["platform_post_id"],
        )


async def wait_for(
    probe: Callable[[], Awaitable[T | None]], timeout: float, what: str, step: float = 0.1
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(step)
