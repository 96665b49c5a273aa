"""Agencies for the bench, built through the public interfaces: the `pulse` CLI creates the
organization and its owner, the gateway's staff API creates clients, influencers, campaigns,
bookings and post URLs, so every service learns the catalog from the real catalog events."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import httpx

from .api import bounded, create_org, login, ok, staff_client


@dataclass
class Post:
    id: str
    booking_id: str
    campaign_id: str
    url: str


@dataclass
class Booking:
    id: str
    campaign_id: str
    posts: list[Post] = field(default_factory=list)


@dataclass
class Campaign:
    id: str
    start_date: str
    end_date: str
    bookings: list[Booking] = field(default_factory=list)

    @property
    def posts(self) -> list[Post]:
        return [p for b in self.bookings for p in b.posts]


@dataclass
class Agency:
    org_id: str
    email: str
    campaigns: list[Campaign] = field(default_factory=list)

    @property
    def posts(self) -> list[Post]:
        return [p for c in self.campaigns for p in c.posts]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Agency:
        return cls(
            org_id=raw["org_id"],
            email=raw["email"],
            campaigns=[
                Campaign(
                    id=c["id"],
                    start_date=c["start_date"],
                    end_date=c["end_date"],
                    bookings=[
                        Booking(
                            id=b["id"],
                            campaign_id=b["campaign_id"],
                            posts=[Post(**p) for p in b["posts"]],
                        )
                        for b in c["bookings"]
                    ],
                )
                for c in raw["campaigns"]
            ],
        )


class VideoIds:
    """TikTok video ids unique across every agency of a run (the fake provider keys posts by
    the id in the URL, so two bench posts never share counters)."""

    def __init__(self, rng: random.Random) -> None:
        self._next = 7_300_000_000_000_000_000 + rng.randrange(10**6) * 10**9

    def take(self) -> int:
        self._next += 1
        return self._next


async def new_agency(env: dict[str, str], label: str, *, test: bool) -> Agency:
    """An organization and its owner through `pulse admin create-org` (needs only the
    database, so it can run while the services start)."""
    email = f"owner-{uuid4().hex[:10]}@{label.lower().replace(' ', '-')}.bench"
    org_id = await create_org(env, f"Bench {label}", email, test=test)
    return Agency(org_id=org_id, email=email)


async def build_campaigns(
    agency: Agency,
    gateway_url: str,
    *,
    campaigns: int,
    bookings: int,
    posts_per_booking: int,
    start: date,
    end: date,
    ids: VideoIds,
    concurrency: int,
    name: str = "Campaign",
) -> list[Campaign]:
    """`campaigns` live campaigns, each booking the same `bookings` TikTok creators, each
    booking with `posts_per_booking` post URLs. Requests run `concurrency` at a time."""
    async with staff_client(gateway_url) as api:
        await login(api, agency.email)
        client = await ok(api.post("/api/clients", json={"name": f"{name} client"}))
        creators = await bounded(
            (_influencer(api, i, handle_of(name, i)) for i in range(bookings)), concurrency
        )
        made = await bounded(
            (
                ok(
                    api.post(
                        "/api/campaigns",
                        json={
                            "client_id": client["id"],
                            "name": f"{name} {i + 1}",
                            "status": "live",
                            "start_date": start.isoformat(),
                            "end_date": end.isoformat(),
                            "budget_cents": 5_000_000_00,
                            "currency": "EUR",
                            "committed_views": 50_000_000,
                        },
                    )
                )
                for i in range(campaigns)
            ),
            concurrency,
        )
        result = [Campaign(m["id"], start.isoformat(), end.isoformat()) for m in made]
        pairs = [(c, creator) for c in result for creator in creators]
        booked = await bounded((_booking(api, c, creator) for c, creator in pairs), concurrency)
        for (campaign, _), booking in zip(pairs, booked, strict=True):
            campaign.bookings.append(booking)
        handles = {creator["id"]: creator["handles"][0]["handle"] for creator in creators}
        targets = [
            (booking, handles[creator["id"]])
            for (_, creator), booking in zip(pairs, booked, strict=True)
            for _ in range(posts_per_booking)
        ]
        registered = await bounded(
            (_post(api, booking, handle, ids.take()) for booking, handle in targets), concurrency
        )
        for (booking, _), post in zip(targets, registered, strict=True):
            booking.posts.append(post)
    agency.campaigns.extend(result)
    return result


def handle_of(name: str, i: int) -> str:
    """The TikTok handle of the i-th creator booked by campaigns named `name`."""
    return f"{name.lower()}.creator{i + 1}"


async def _influencer(api: httpx.AsyncClient, i: int, handle: str) -> dict[str, Any]:
    body = {
        "display_name": f"Creator {i + 1}",
        "tier": "mid",
        "handles": [{"platform": "tiktok", "handle": handle, "followers": 10**6}],
    }
    created: dict[str, Any] = await ok(api.post("/api/influencers", json=body))
    return created


async def _booking(api: httpx.AsyncClient, campaign: Campaign, creator: dict[str, Any]) -> Booking:
    made = await ok(
        api.post(
            f"/api/campaigns/{campaign.id}/bookings",
            json={
                "influencer_id": creator["id"],
                "fee_cents": 250_000_00,
                "committed_views": 2_000_000,
                "committed_engagement": 120_000,
                "committed_posts": 2,
                "min_engagement_rate": 3.0,
            },
        )
    )
    return Booking(id=made["id"], campaign_id=campaign.id)


async def _post(api: httpx.AsyncClient, booking: Booking, handle: str, video: int) -> Post:
    url = f"https://www.tiktok.com/@{handle}/video/{video}"
    made = await ok(api.post(f"/api/bookings/{booking.id}/posts", json={"url": url}))
    return Post(id=made["id"], booking_id=booking.id, campaign_id=booking.campaign_id, url=url)


def campaign_dates(today: date, history_days: int) -> tuple[date, date]:
    """Live campaigns that cover the seeded history and run on for weeks after the seed."""
    return today - timedelta(days=history_days + 1), today + timedelta(days=60)
