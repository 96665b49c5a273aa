"""An agency as the shipped n8n workflows expect it: an organization with an ingest token and
the workflows' own example posts tracked (through catalog events, as the gateway sends them)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from pulse_contracts import utcnow
from pulse_contracts.catalog import (
    ApiTokenUpserted,
    BookingUpserted,
    CampaignUpserted,
    OrganizationUpserted,
    PostRegistered,
)

from .scenario import Bus


@dataclass
class Tenant:
    org_id: UUID
    token: str
    sources: list[dict[str, Any]]  # the workflow's posts: platform, url, endpoint
    post_ids: dict[str, UUID]  # by url
    campaign_id: UUID
    booking_id: UUID

    def by_platform(self, platform: str) -> dict[str, Any]:
        (found,) = [s for s in self.sources if s["platform"] == platform]
        return found


async def register_post(bus: Bus, t: Tenant, post_id: UUID, platform: str, url: str) -> None:
    await bus.publish_event(
        t.org_id,
        PostRegistered(
            id=post_id,
            booking_id=t.booking_id,
            campaign_id=t.campaign_id,
            platform=platform,
            url=url,
            registered_at=utcnow(),
        ),
    )


async def create_tenant(bus: Bus, db: asyncpg.Connection, sources: list[dict[str, Any]]) -> Tenant:
    """A new organization tracking `sources`, once ingest has learned it (10 s at most)."""
    stamp = utcnow() - timedelta(days=1)
    org_id, campaign_id, booking_id = uuid4(), uuid4(), uuid4()
    token = f"pulse_{uuid4().hex}"  # as the gateway makes them
    t = Tenant(
        org_id, token, sources, {s["url"]: uuid4() for s in sources}, campaign_id, booking_id
    )
    for event in (
        OrganizationUpserted(id=org_id, name="n8n agency", updated_at=stamp),
        ApiTokenUpserted(
            id=uuid4(),
            org_id=org_id,
            name="n8n",
            token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            scopes=["ingest"],
            updated_at=stamp,
        ),
        CampaignUpserted(
            id=campaign_id,
            client_id=uuid4(),
            name="Webhook week",
            status="live",
            start_date=date.today() - timedelta(days=3),
            end_date=date.today() + timedelta(days=10),
            updated_at=stamp,
        ),
        BookingUpserted(
            id=booking_id,
            campaign_id=campaign_id,
            influencer_id=uuid4(),
            fee_cents=1000,
            updated_at=stamp,
        ),
    ):
        await bus.publish_event(org_id, event)
    for s in sources:
        await register_post(bus, t, t.post_ids[s["url"]], s["platform"], s["url"])
    deadline = time.monotonic() + 10
    while True:
        posts = await db.fetchval(
            "SELECT count(*) FROM ingest.tracked_posts WHERE org_id = $1", org_id
        )
        tokens = await db.fetchval(
            "SELECT count(*) FROM ingest.api_tokens WHERE org_id = $1", org_id
        )
        if posts == len(sources) and tokens == 1:
            return t
        if time.monotonic() > deadline:
            raise AssertionError("ingest never learned the organization")
        await asyncio.sleep(0.05)
