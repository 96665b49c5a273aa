"""The demo agency `make dev` seeds: two clients, four campaigns at different points of their
timelines, twelve creators on four platforms, forty posts with weeks of growth curves.

Built through the public interfaces (the gateway's API, ingest's webhook), so the demo also
proves the path a real agency takes.
"""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from .handlers import accounts

DEMO_EMAIL = "demo@northwind.agency"
DEMO_PASSWORD = "pulse-demo-2026"  # noqa: S105 - the published demo login, development only
DEMO_ORG = "Northwind Talent (demo)"
SAMPLE_EVERY = timedelta(hours=6)

CLIENTS = [
    {"name": "Lumière Skincare", "brand_color": "#C2185B"},
    {"name": "Peak Outdoor Co.", "brand_color": "#2E7D32"},
]
# (display name, tier, platform, handle, followers)
CREATORS = [
    ("Maya Styles", "macro", "tiktok", "maya.styles", 1_840_000),
    ("Jonas Berg", "mid", "tiktok", "jonasberg", 420_000),
    ("Aiko Tanaka", "micro", "tiktok", "aiko.tnk", 96_000),
    ("Léa Martin", "macro", "instagram", "leamartin", 1_250_000),
    ("Sam Rivera", "mid", "instagram", "samrivera.fit", 310_000),
    ("Priya Nair", "micro", "instagram", "priya.glows", 58_000),
    ("Tech With Tom", "macro", "youtube", "techwithtom", 2_300_000),
    ("Ella Outdoors", "mid", "youtube", "ellaoutdoors", 540_000),
    ("Nico Cooks", "micro", "youtube", "nicocooks", 120_000),
    ("The Trail Family", "mid", "facebook", "thetrailfamily", 680_000),
    ("Rosa Beauty", "micro", "facebook", "rosabeauty", 75_000),
    ("Daily Dose Dan", "macro", "facebook", "dailydosedan", 1_900_000),
]


@dataclass
class DemoCampaign:
    name: str
    client: int
    status: str
    start: date
    end: date
    budget_cents: int
    committed_views: int | None
    bookings: list[dict[str, Any]] = field(default_factory=list)


def _post_url(rng: random.Random, platform: str, handle: str) -> str:
    if platform == "tiktok":
        return f"https://www.tiktok.com/@{handle}/video/{rng.randrange(10**18, 10**19)}"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
    code = "".join(rng.choice(alphabet) for _ in range(11))
    if platform == "instagram":
        return f"https://www.instagram.com/reel/{code}/"
    if platform == "youtube":
        return f"https://www.youtube.com/watch?v={code}"
    return f"https://www.facebook.com/{handle}/videos/{rng.randrange(10**15, 10**16)}"


# The client report of the first live campaign mails itself every Monday; the first one goes
# out as soon as the numbers are in (under `make dev`, to the mail directory var/mail).
DEMO_SCHEDULE: dict[str, Any] = {
    "cadence": "weekly",
    "recipients": ["marketing@client.example"],
    "send_now": True,
}

# A benchmark set (docs/insights.md): rival skincare brands, one handle the provider does not
# know, so the screen shows a status beside the figures.
DEMO_BENCHMARKS: dict[str, Any] = {
    "name": "Skincare rivals",
    "accounts": [
        {"platform": "tiktok", "handle": "glowrival"},
        {"platform": "tiktok", "handle": "dermalab.official"},
        {"platform": "instagram", "handle": "velvetskin"},
        {"platform": "instagram", "handle": "auroraderm"},
        {"platform": "tiktok", "handle": "unknown_glowhouse"},
    ],
}


def demo_campaigns(today: date, seed: int = 2026) -> list[DemoCampaign]:
    """Four campaigns; bookings name creators by index and carry their posts' curves."""
    rng = random.Random(seed)
    campaigns = [
        DemoCampaign(
            "Autumn Glow Serum",
            0,
            "ended",
            today - timedelta(days=45),
            today - timedelta(days=12),
            4_800_000_00,
            None,
        ),
        DemoCampaign(
            "Winter Trail Collection",
            1,
            "live",
            today - timedelta(days=5),
            today + timedelta(days=25),
            6_200_000_00,
            9_000_000,
        ),
        DemoCampaign(
            "Holiday Gift Sets",
            0,
            "live",
            today - timedelta(days=24),
            today + timedelta(days=5),
            5_500_000_00,
            None,
        ),
        DemoCampaign(
            "Spring Preview",
            1,
            "draft",
            today + timedelta(days=20),
            today + timedelta(days=55),
            3_000_000_00,
            5_000_000,
        ),
    ]
    # Creators per campaign, the posts each committed to and how many of them are up:
    # 14 + 11 + 14 = 39 posts. Winter Trail is five days old, and one of its creators has a
    # post still to come, as most campaigns that young do (the forecast counts it, its low
    # end does not).
    lineups = [
        [(0, 4, 4), (3, 4, 4), (6, 3, 3), (9, 3, 3)],
        [(1, 3, 3), (4, 3, 3), (7, 3, 2), (10, 3, 3)],
        [(2, 4, 4), (5, 4, 4), (8, 3, 3), (11, 3, 3)],
        [],
    ]
    for campaign, lineup in zip(campaigns, lineups, strict=True):
        for creator, n_posts, up in lineup:
            _, _, platform, handle, followers = CREATORS[creator]
            views_per_post = int(followers * rng.uniform(0.25, 0.9))
            # One creator per live campaign under-delivers, so the demo has alerts to act on.
            weak = campaign.status == "live" and creator in (4, 8)
            campaign.bookings.append(
                {
                    "creator": creator,
                    "fee_cents": int(followers * rng.uniform(0.8, 1.6)) // 100 * 100 * 10,
                    "committed_views": views_per_post * n_posts,
                    "committed_engagement": int(views_per_post * n_posts * 0.06),
                    "committed_posts": n_posts,
                    "min_engagement_rate": 3.5,
                    "exclusivity_days": 30,
                    "usage_rights_days": 90,
                    "posts": [
                        {
                            "url": _post_url(rng, platform, handle),
                            "total": int(
                                views_per_post * rng.uniform(0.15, 0.35)
                                if weak
                                else views_per_post * rng.uniform(0.8, 1.5)
                            ),
                            "tau_h": rng.uniform(18, 96),
                            "eng": rng.uniform(0.035, 0.09),
                            "offset": rng.uniform(0, 0.3),
                        }
                        for _ in range(n_posts)
                    ][:up],  # every post drawn, so the posts after it stay as they were
                }
            )
    return campaigns


# Counters each platform does not expose publicly stay "n/a", as the provider reports them.
NOT_EXPOSED = {
    "instagram": ("shares", "saves"),
    "youtube": ("shares", "saves"),
    "facebook": ("saves",),
}
SHARE_OF_ENGAGEMENT = {"likes": 0.85, "comments": 0.08, "shares": 0.05, "saves": 0.02}


def platform_of(url: str) -> str:
    return next(p for p in ("tiktok", "instagram", "youtube", "facebook") if p in url)


def posted_moment(campaign: DemoCampaign, post: dict[str, Any], now: datetime) -> datetime:
    start = datetime.combine(campaign.start, datetime.min.time(), UTC)
    end = datetime.combine(campaign.end + timedelta(days=1), datetime.min.time(), UTC)
    moment: datetime = start + (min(end, now) - start) * float(post["offset"])
    return moment


def ratios(post: dict[str, Any]) -> dict[str, float]:
    """Each counter as a share of views, for the counters the post's platform exposes."""
    hidden = NOT_EXPOSED.get(platform_of(post["url"]), ())
    return {k: post["eng"] * v for k, v in SHARE_OF_ENGAGEMENT.items() if k not in hidden}


def post_samples(
    campaign: DemoCampaign, post: dict[str, Any], now: datetime
) -> list[dict[str, Any]]:
    """A growth curve: fast at first, then flattening, sampled every six hours."""
    posted = posted_moment(campaign, post, now)
    if posted >= now:
        return []
    end = datetime.combine(campaign.end + timedelta(days=1), datetime.min.time(), UTC)
    shares = ratios(post)
    samples, t = [], posted + timedelta(hours=1)
    stop = min(now - timedelta(minutes=20), end + timedelta(days=7))
    while t <= stop:
        hours = (t - posted).total_seconds() / 3600
        views = int(post["total"] * (1 - math.exp(-hours / post["tau_h"])))
        metrics: dict[str, int | None] = dict.fromkeys(SHARE_OF_ENGAGEMENT)
        metrics.update({k: int(views * ratio) for k, ratio in shares.items()})
        samples.append(
            {
                "url": post["url"],
                "observed_at": t.isoformat().replace("+00:00", "Z"),
                "metrics": {"views": views, **metrics},
            }
        )
        t += SAMPLE_EVERY
    return samples


async def seed_demo(
    pool: asyncpg.Pool,
    *,
    gateway_url: str,
    ingest_url: str,
    now: datetime,
    fake_provider_url: str | None = None,
) -> dict[str, Any]:
    """Seed once: a second run finds the demo login working and changes nothing.

    With the fake ScrapeCreators server, each post's curve is given to it first, so the
    scheduler's refreshes continue the seeded history instead of starting another one."""
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as api:
        login = await api.post(
            "/api/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
        )
        if login.status_code == 200:
            return {"seeded": False, "email": DEMO_EMAIL}
        await accounts.create_organization(
            pool, name=DEMO_ORG, owner_email=DEMO_EMAIL, owner_password=DEMO_PASSWORD
        )
        login = await api.post(
            "/api/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
        )
        login.raise_for_status()
        api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        if fake_provider_url:
            await _curves(fake_provider_url, now)
        items, weekly = await _catalog(api, now)
        await _ok(api.post("/api/benchmark-sets", json=DEMO_BENCHMARKS))
        token = (
            await _ok(api.post("/api/tokens", json={"name": "demo seed", "scopes": ["ingest"]}))
        )["token"]
        accepted = await _deliver(ingest_url, token, items)
        # After the samples, so the first report has numbers to show.
        await _ok(api.put(f"/api/campaigns/{weekly}/report-schedule", json=DEMO_SCHEDULE))
    return {"seeded": True, "email": DEMO_EMAIL, "samples": accepted}


async def _ok(request: Any) -> Any:
    response: httpx.Response = await request
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json()


async def _curves(fake_provider_url: str, now: datetime) -> None:
    async with httpx.AsyncClient(base_url=fake_provider_url, timeout=10) as fake:
        for campaign in demo_campaigns(now.date()):
            for booking in campaign.bookings:
                for post in booking["posts"]:
                    await _ok(
                        fake.post(
                            "/_control/curves",
                            json={
                                "url": post["url"],
                                "posted_at": posted_moment(campaign, post, now).timestamp(),
                                "total": post["total"],
                                "tau_h": post["tau_h"],
                                "ratios": ratios(post),
                            },
                        )
                    )


async def _catalog(api: httpx.AsyncClient, now: datetime) -> tuple[list[dict[str, Any]], str]:
    """The demo's catalog through the API; the samples to deliver, and the first live
    campaign's id (its client report gets a weekly schedule)."""
    # The agency values earned media in its own currency: the default rates, read in euros.
    await _ok(api.put("/api/settings/emv-rates", json={"currency": "EUR"}))
    clients = [await _ok(api.post("/api/clients", json=c)) for c in CLIENTS]
    creators = [
        await _ok(
            api.post(
                "/api/influencers",
                json={
                    "display_name": name,
                    "tier": tier,
                    "handles": [{"platform": platform, "handle": handle, "followers": followers}],
                },
            )
        )
        for name, tier, platform, handle, followers in CREATORS
    ]
    items: list[dict[str, Any]] = []
    live: list[str] = []
    for campaign in demo_campaigns(now.date()):
        created = await _ok(
            api.post(
                "/api/campaigns",
                json={
                    "client_id": clients[campaign.client]["id"],
                    "name": campaign.name,
                    "status": campaign.status,
                    "start_date": campaign.start.isoformat(),
                    "end_date": campaign.end.isoformat(),
                    "budget_cents": campaign.budget_cents,
                    "currency": "EUR",
                    "committed_views": campaign.committed_views,
                },
            )
        )
        if campaign.status == "live":
            live.append(created["id"])
        for booking in campaign.bookings:
            terms = {k: v for k, v in booking.items() if k not in ("creator", "posts")}
            made = await _ok(
                api.post(
                    f"/api/campaigns/{created['id']}/bookings",
                    json={
                        "influencer_id": creators[booking["creator"]]["id"],
                        **terms,
                    },
                )
            )
            for post in booking["posts"]:
                await _ok(api.post(f"/api/bookings/{made['id']}/posts", json={"url": post["url"]}))
                items.extend(post_samples(campaign, post, now))
    return items, live[0]


async def _deliver(ingest_url: str, token: str, items: list[dict[str, Any]]) -> int:
    """Send samples the way n8n does; until ingest has learned the posts, retry (idempotent)."""
    accepted = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=ingest_url, timeout=60, headers=headers) as ingest:
        for start in range(0, len(items), 500):
            batch = items[start : start + 500]
            for _ in range(120):
                response = await ingest.post("/api/ingest/posts", json={"items": batch})
                if response.status_code == 200:
                    result = response.json()
                    accepted += result["accepted"]
                    pending = [
                        batch[r["index"]] for r in result["rejected"] if r["code"] == "unknown_post"
                    ]
                    if not pending:
                        break
                    batch = pending
                await asyncio.sleep(0.5)  # the post.registered events are still on their way
            else:
                raise RuntimeError("ingest did not learn the demo posts in time")
    return accepted
