"""Influencers, campaigns, bookings and posts through the gateway, with the aggregator running.

Both run as real processes against this run's PostgreSQL and RabbitMQ, so the catalog events
travel the bus and the KPI snapshots come from the aggregator's own computation.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from uuid import uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from tests.support.agency import PASSWORD, create_org
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"
TIKTOK = "https://www.tiktok.com/@ana.rivera/video/7433917265401856302"


@pytest.fixture(scope="module")
def aggregator(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    proc = ServiceProcess("aggregator", service_env, LOGS)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def ingest(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    proc = ServiceProcess("ingest", service_env, LOGS)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def gateway(
    service_env: dict[str, str], aggregator: ServiceProcess, ingest: ServiceProcess
) -> Iterator[ServiceProcess]:
    proc = ServiceProcess(
        "gateway",
        {
            **service_env,
            "PULSE_GATEWAY_AGGREGATOR_URL": aggregator.url,
            "PULSE_GATEWAY_INGEST_URL": ingest.url,
        },
        LOGS,
    )
    proc.start()
    yield proc
    proc.stop()


class Agency:
    def __init__(self, gateway: ServiceProcess, service_env: dict[str, str]) -> None:
        self.owner_email = f"owner-{uuid4().hex[:8]}@northwind.agency"
        self.ids = create_org(service_env, "Northwind Talent", self.owner_email)
        self.url = gateway.url

    async def login(self, email: str | None = None, password: str = PASSWORD) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=self.url, timeout=10)
        response = await client.post(
            "/api/auth/login", json={"email": email or self.owner_email, "password": password}
        )
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return client


@pytest.fixture(scope="module")
def agency(gateway: ServiceProcess, service_env: dict[str, str]) -> Agency:
    return Agency(gateway, service_env)


@pytest.fixture(scope="module")
def rival(gateway: ServiceProcess, service_env: dict[str, str]) -> Agency:
    return Agency(gateway, service_env)


@pytest.fixture
async def owner(agency: Agency) -> AsyncIterator[httpx.AsyncClient]:
    client = await agency.login()
    yield client
    await client.aclose()


async def _person(owner: httpx.AsyncClient, agency: Agency, role: str) -> httpx.AsyncClient:
    email = f"{role}-{uuid4().hex[:8]}@northwind.agency"
    created = await owner.post(
        "/api/users", json={"email": email, "role": role, "password": PASSWORD}
    )
    assert created.status_code == 201, created.text
    return await agency.login(email)


async def _created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def _catalog(client: httpx.AsyncClient, tag: str = "") -> dict[str, dict[str, Any]]:
    """A client, campaign, influencer, booking and tracked post, created through the API."""
    brand = await _created(client, "/api/clients", {"name": f"Acme {tag}"})
    campaign = await _created(
        client,
        "/api/campaigns",
        {
            "client_id": brand["id"],
            "name": f"Summer Launch {tag}",
            "status": "live",
            "start_date": "2026-06-01",
            "end_date": "2026-06-30",
            "budget_cents": 5_000_000,
            "currency": "EUR",
            "committed_views": 1_000_000,
        },
    )
    creator = await _created(
        client,
        "/api/influencers",
        {
            "display_name": f"Ana Rivera {tag}",
            "avatar_url": "https://cdn.example.com/ana.jpg",
            "tier": "macro",
            "handles": [
                {"platform": "tiktok", "handle": "@ana.rivera", "followers": 250_000},
                {"platform": "instagram", "handle": "ana_rivera"},
            ],
        },
    )
    booking = await _created(
        client,
        f"/api/campaigns/{campaign['id']}/bookings",
        {
            "influencer_id": creator["id"],
            "fee_cents": 1_200_000,
            "committed_views": 400_000,
            "committed_engagement": 20_000,
            "committed_posts": 2,
            "min_engagement_rate": 3.5,
            "exclusivity_days": 30,
        },
    )
    post = await _created(client, f"/api/bookings/{booking['id']}/posts", {"url": TIKTOK})
    return {
        "client": brand,
        "campaign": campaign,
        "influencer": creator,
        "booking": booking,
        "post": post,
    }


async def _eventually(
    fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 10
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


class Probe:
    """An exclusive queue bound to catalog.# on pulse.events."""

    def __init__(self, connection: Any, queue: Any) -> None:
        self.connection = connection
        self.queue = queue
        self.events: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, amqp_url: str) -> Probe:
        connection = await aio_pika.connect_robust(amqp_url)
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            "pulse.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="catalog.#")
        return cls(connection, queue)

    async def wait_for(
        self, wanted: Callable[[list[dict[str, Any]]], bool], timeout: float = 10
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while not wanted(self.events) and time.monotonic() < deadline:
            message = await self.queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            self.events.append(json.loads(message.body))
        return self.events

    def of(self, entity_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["data"]["id"] == entity_id]


@pytest.fixture
async def probe(servers: Servers) -> AsyncIterator[Probe]:
    opened = await Probe.open(servers.amqp_url)
    yield opened
    await opened.connection.close()


async def test_the_catalog_travels_the_bus_whole_and_comes_back_with_kpis(
    owner: httpx.AsyncClient, agency: Agency, probe: Probe
) -> None:
    made = await _catalog(owner, "flow")
    campaign, creator, booking, post = (
        made["campaign"],
        made["influencer"],
        made["booking"],
        made["post"],
    )
    assert post["platform"] == "tiktok"
    assert post["platform_post_id"] == "7433917265401856302"
    assert {(h["platform"], h["handle"]) for h in creator["handles"]} == {
        ("tiktok", "ana.rivera"),
        ("instagram", "ana_rivera"),
    }

    ids = {made[k]["id"] for k in ("campaign", "influencer", "booking", "post")}
    await probe.wait_for(lambda evs: ids <= {e["data"]["id"] for e in evs})
    by_type = {e["type"]: e for e in probe.events if e["data"]["id"] in ids}
    assert set(by_type) == {
        "catalog.campaign.upserted",
        "catalog.influencer.upserted",
        "catalog.booking.upserted",
        "catalog.post.registered",
    }
    assert all(e["org_id"] == agency.ids["org_id"] for e in by_type.values())
    assert by_type["catalog.campaign.upserted"]["data"] == {
        "id": campaign["id"],
        "client_id": made["client"]["id"],
        "name": "Summer Launch flow",
        "status": "live",
        "start_date": "2026-06-01",
        "end_date": "2026-06-30",
        "budget_cents": 5_000_000,
        "currency": "EUR",
        "committed_views": 1_000_000,
        "committed_engagement": None,
        "updated_at": by_type["catalog.campaign.upserted"]["data"]["updated_at"],
    }
    influencer_data = by_type["catalog.influencer.upserted"]["data"]
    assert influencer_data["display_name"] == "Ana Rivera flow"
    assert influencer_data["avatar_url"] == "https://cdn.example.com/ana.jpg"
    assert influencer_data["tier"] == "macro"
    assert {"platform": "tiktok", "handle": "ana.rivera", "followers": 250_000} in (
        influencer_data["handles"]
    )
    booking_data = by_type["catalog.booking.upserted"]["data"]
    assert booking_data["campaign_id"] == campaign["id"]
    assert booking_data["influencer_id"] == creator["id"]
    assert booking_data["fee_cents"] == 1_200_000
    assert booking_data["committed_posts"] == 2
    assert booking_data["min_engagement_rate"] == 3.5
    assert booking_data["exclusivity_days"] == 30
    assert booking_data["usage_rights_days"] is None
    post_data = by_type["catalog.post.registered"]["data"]
    assert post_data["booking_id"] == booking["id"]
    assert post_data["campaign_id"] == campaign["id"]
    assert post_data["url"] == TIKTOK
    assert post_data["platform_post_id"] == "7433917265401856302"
    for event in by_type.values():
        assert event["data"].get("updated_at") or event["data"].get("registered_at")

    async def detail() -> dict[str, Any]:
        result: dict[str, Any] = (await owner.get(f"/api/campaigns/{campaign['id']}")).json()
        return result

    shown = await _eventually(
        detail, lambda d: d["kpis"] is not None and d["kpis"]["committed_posts"] == 2
    )
    kpis = shown["kpis"]
    assert kpis is not None, "the aggregator never computed the campaign"
    assert kpis["committed_views"] == 1_000_000
    assert kpis["actual_views"] == 0
    assert kpis["spend_cents"] == 1_200_000
    assert kpis["views_pct"] == 0

    bookings = (await owner.get(f"/api/campaigns/{campaign['id']}/bookings")).json()
    assert [b["id"] for b in bookings["items"]] == [booking["id"]]
    assert bookings["items"][0]["influencer_name"] == "Ana Rivera flow"
    assert bookings["items"][0]["kpis"]["committed_views"] == 400_000
    assert bookings["items"][0]["kpis"]["actual_views"] == 0

    posts = (await owner.get(f"/api/campaigns/{campaign['id']}/posts")).json()
    assert [p["id"] for p in posts["items"]] == [post["id"]]
    tracked = posts["items"][0]
    assert tracked["latest"] is None
    assert tracked["influencer_name"] == "Ana Rivera flow"

    # Ingest's view of the post's pulls shows through (no provider is configured here).
    async def post_list() -> dict[str, Any]:
        result: dict[str, Any] = (await owner.get(f"/api/campaigns/{campaign['id']}/posts")).json()
        return result

    pulled = await _eventually(post_list, lambda b: b["items"][0]["pull_status"] is not None)
    assert pulled["items"][0]["pull_status"] == "not_pulled"
    assert pulled["items"][0]["last_error"] is None
    assert pulled["items"][0]["last_pulled_at"] is None

    listed = (await owner.get("/api/campaigns", params={"q": "launch flow"})).json()
    assert [c["id"] for c in listed["items"]] == [campaign["id"]]
    assert listed["items"][0]["kpis"]["committed_views"] == 1_000_000
    assert listed["items"][0]["client_name"] == "Acme flow"

    profile = (await owner.get(f"/api/influencers/{creator['id']}")).json()
    assert len(profile["handles"]) == 2
    [held] = profile["bookings"]
    assert held["campaign_name"] == "Summer Launch flow"
    assert held["kpis"]["committed_views"] == 400_000
    assert [p["url"] for p in held["posts"]] == [TIKTOK]
    assert held["posts"][0]["latest"] is None


async def test_a_new_campaign_defaults_to_a_usd_draft(owner: httpx.AsyncClient) -> None:
    brand = await _created(owner, "/api/clients", {"name": "Fresh"})
    body = {
        "client_id": brand["id"],
        "name": f"Fresh {uuid4().hex[:6]}",
        "start_date": "2026-01-01",
        "end_date": "2026-01-31",
    }
    created = await _created(owner, "/api/campaigns", body)
    assert created["status"] == "draft"
    assert created["currency"] == "USD"
    assert "kpis" not in created
    shown = (await owner.get(f"/api/campaigns/{created['id']}")).json()
    assert "kpis" in shown  # null right now or already computed: never missing


async def test_bad_input_is_refused_naming_the_field(
    owner: httpx.AsyncClient, rival: Agency
) -> None:
    made = await _catalog(owner, "validation")
    campaign, booking = made["campaign"], made["booking"]
    base = {
        "client_id": made["client"]["id"],
        "name": "Winter",
        "start_date": "2026-12-01",
        "end_date": "2026-12-31",
    }
    theirs = await rival.login()
    their_client = await _created(theirs, "/api/clients", {"name": "Rival brand"})
    their_creator = await _created(theirs, "/api/influencers", {"display_name": "Rival creator"})
    await theirs.aclose()

    async def refused(method: str, path: str, body: dict[str, Any], field: str) -> str:
        response = await owner.request(method, path, json=body)
        assert response.status_code == 422, (path, body, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        paths = [d["path"] for d in error["details"]]
        assert any(p.split(".")[-1] == field or field in p.split(".") for p in paths), paths
        message: str = error["message"]
        return message

    await refused("POST", "/api/campaigns", {**base, "end_date": "2026-11-30"}, "end_date")
    await refused("POST", "/api/campaigns", {**base, "currency": "eur"}, "currency")
    await refused("POST", "/api/campaigns", {**base, "currency": "EURO"}, "currency")
    await refused("POST", "/api/campaigns", {**base, "status": "running"}, "status")
    await refused("POST", "/api/campaigns", {**base, "budget_cents": -1}, "budget_cents")
    await refused("POST", "/api/campaigns", {**base, "surprise": 1}, "surprise")
    missing = await refused(
        "POST", "/api/campaigns", {**base, "client_id": str(uuid4())}, "client_id"
    )
    foreign = await refused(
        "POST", "/api/campaigns", {**base, "client_id": their_client["id"]}, "client_id"
    )
    assert missing.replace(missing.split()[2], "X") == foreign.replace(foreign.split()[2], "X")
    assert "Rival" not in foreign
    path = f"/api/campaigns/{campaign['id']}"
    await refused("PATCH", path, {"end_date": "2026-05-01"}, "end_date")
    await refused("PATCH", path, {"name": None}, "name")
    await refused("PATCH", path, {"client_id": their_client["id"]}, "client_id")
    await refused("GET", "/api/campaigns?status=running", {}, "status")
    await refused("GET", "/api/campaigns?cursor=nonsense", {}, "cursor")

    await refused(
        "POST", "/api/influencers", {"display_name": "X", "avatar_url": "http://a/b"}, "avatar_url"
    )
    await refused("POST", "/api/influencers", {"display_name": ""}, "display_name")
    many = [{"platform": "tiktok", "handle": f"h{i}"} for i in range(21)]
    await refused("POST", "/api/influencers", {"display_name": "X", "handles": many}, "handles")
    twice = [{"platform": "tiktok", "handle": "@dup"}, {"platform": "tiktok", "handle": "dup"}]
    await refused("POST", "/api/influencers", {"display_name": "X", "handles": twice}, "handles")
    await refused(
        "POST",
        "/api/influencers",
        {"display_name": "X", "handles": [{"platform": "myspace", "handle": "x"}]},
        "platform",
    )

    bookings = f"/api/campaigns/{campaign['id']}/bookings"
    creator_id = made["influencer"]["id"]
    await refused(
        "POST", bookings, {"influencer_id": their_creator["id"], "fee_cents": 1}, "influencer_id"
    )
    await refused("POST", bookings, {"influencer_id": creator_id, "fee_cents": -5}, "fee_cents")
    await refused(
        "POST",
        bookings,
        {"influencer_id": creator_id, "fee_cents": 1, "min_engagement_rate": 101},
        "min_engagement_rate",
    )
    await refused(
        "PATCH", f"/api/bookings/{booking['id']}", {"campaign_id": str(uuid4())}, "campaign_id"
    )
    unparsable = await refused(
        "POST", f"/api/bookings/{booking['id']}/posts", {"url": "https://example.com/x"}, "url"
    )
    assert "unsupported host" in unparsable


async def test_another_organizations_resources_are_not_found(
    owner: httpx.AsyncClient, rival: Agency
) -> None:
    made = await _catalog(owner, "tenancy")
    ids = {name: row["id"] for name, row in made.items()}
    other = await rival.login()
    routes: list[tuple[str, str, str, dict[str, Any] | None]] = [
        ("GET", "/api/influencers/{}", "influencer", None),
        ("PATCH", "/api/influencers/{}", "influencer", {"tier": "mega"}),
        ("DELETE", "/api/influencers/{}", "influencer", None),
        ("GET", "/api/campaigns/{}", "campaign", None),
        ("PATCH", "/api/campaigns/{}", "campaign", {"name": "Hijacked"}),
        ("GET", "/api/campaigns/{}/bookings", "campaign", None),
        (
            "POST",
            "/api/campaigns/{}/bookings",
            "campaign",
            {"influencer_id": str(uuid4()), "fee_cents": 1},
        ),
        ("GET", "/api/campaigns/{}/posts", "campaign", None),
        ("PATCH", "/api/bookings/{}", "booking", {"fee_cents": 1}),
        ("POST", "/api/bookings/{}/posts", "booking", {"url": TIKTOK}),
        ("DELETE", "/api/posts/{}", "post", None),
        ("DELETE", "/api/bookings/{}", "booking", None),
        ("DELETE", "/api/campaigns/{}", "campaign", None),
    ]
    for method, template, kind, body in routes:
        theirs = await other.request(method, template.format(ids[kind]), json=body)
        ghost = str(uuid4())
        missing = await other.request(method, template.format(ghost), json=body)
        assert theirs.status_code == missing.status_code == 404, (method, template, theirs.text)
        assert theirs.json()["error"]["message"].replace(ids[kind], "X") == missing.json()["error"][
            "message"
        ].replace(ghost, "X")
        assert theirs.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    listed = (await other.get("/api/campaigns")).json()["items"]
    assert ids["campaign"] not in {c["id"] for c in listed}
    creators = (await other.get("/api/influencers")).json()["items"]
    assert ids["influencer"] not in {i["id"] for i in creators}
    await other.aclose()

    # Nothing the rival tried changed anything.
    assert (await owner.get(f"/api/campaigns/{ids['campaign']}")).json()["name"] == (
        "Summer Launch tenancy"
    )
    posts = (await owner.get(f"/api/campaigns/{ids['campaign']}/posts")).json()["items"]
    assert [p["id"] for p in posts] == [ids["post"]]


async def test_conflicts_duplicate_post_and_influencer_still_booked(
    owner: httpx.AsyncClient,
) -> None:
    made = await _catalog(owner, "conflicts")
    booking, creator = made["booking"], made["influencer"]
    same_post = "tiktok.com/@ana.rivera/video/7433917265401856302?is_from_webapp=1"
    duplicate = await owner.post(f"/api/bookings/{booking['id']}/posts", json={"url": same_post})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "conflict"

    still_booked = await owner.delete(f"/api/influencers/{creator['id']}")
    assert still_booked.status_code == 409
    assert (await owner.get(f"/api/influencers/{creator['id']}")).status_code == 200

    # Cancelling the booking stops tracking its posts; then the influencer can go.
    assert (await owner.delete(f"/api/bookings/{booking['id']}")).status_code == 204
    campaign_id = made["campaign"]["id"]
    assert (await owner.get(f"/api/campaigns/{campaign_id}/posts")).json()["items"] == []
    assert (await owner.get(f"/api/campaigns/{campaign_id}/bookings")).json()["items"] == []
    assert (await owner.delete(f"/api/influencers/{creator['id']}")).status_code == 204
    assert (await owner.get(f"/api/influencers/{creator['id']}")).status_code == 404


async def test_analysts_read_and_managers_write(owner: httpx.AsyncClient, agency: Agency) -> None:
    manager = await _person(owner, agency, "manager")
    analyst = await _person(owner, agency, "analyst")
    made = await _catalog(manager, "roles")
    ids = {name: row["id"] for name, row in made.items()}
    for path in (
        "/api/influencers",
        f"/api/influencers/{ids['influencer']}",
        "/api/campaigns",
        f"/api/campaigns/{ids['campaign']}",
        f"/api/campaigns/{ids['campaign']}/bookings",
        f"/api/campaigns/{ids['campaign']}/posts",
    ):
        assert (await analyst.get(path)).status_code == 200, path
    writes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/api/influencers", {"display_name": "Nope"}),
        ("PATCH", f"/api/influencers/{ids['influencer']}", {"tier": "nano"}),
        ("DELETE", f"/api/influencers/{ids['influencer']}", None),
        (
            "POST",
            "/api/campaigns",
            {
                "client_id": ids["client"],
                "name": "Nope",
                "start_date": "2026-01-01",
                "end_date": "2026-01-02",
            },
        ),
        ("PATCH", f"/api/campaigns/{ids['campaign']}", {"name": "Nope"}),
        ("DELETE", f"/api/campaigns/{ids['campaign']}", None),
        (
            "POST",
            f"/api/campaigns/{ids['campaign']}/bookings",
            {"influencer_id": ids["influencer"], "fee_cents": 1},
        ),
        ("PATCH", f"/api/bookings/{ids['booking']}", {"fee_cents": 1}),
        ("DELETE", f"/api/bookings/{ids['booking']}", None),
        ("POST", f"/api/bookings/{ids['booking']}/posts", {"url": "https://youtu.be/dQw4w9WgXcQ"}),
        ("DELETE", f"/api/posts/{ids['post']}", None),
    ]
    for method, path, body in writes:
        refused = await analyst.request(method, path, json=body)
        assert refused.status_code == 403, (method, path, refused.text)
        assert "manager" in refused.json()["error"]["message"]
    patched = await manager.patch(f"/api/bookings/{ids['booking']}", json={"fee_cents": 1})
    assert patched.status_code == 200
    assert patched.json()["fee_cents"] == 1
    for client in (manager, analyst):
        await client.aclose()


async def test_every_write_is_audited_and_deletions_are_published(
    owner: httpx.AsyncClient, agency: Agency, admin_db: asyncpg.Connection, probe: Probe
) -> None:
    made = await _catalog(owner, "audit")
    ids = {name: row["id"] for name, row in made.items()}
    assert (
        await owner.patch(
            f"/api/influencers/{ids['influencer']}",
            json={"handles": [{"platform": "youtube", "handle": "@AnaR", "followers": 9}]},
        )
    ).json()["handles"] == [{"platform": "youtube", "handle": "AnaR", "followers": 9}]
    assert (
        await owner.patch(f"/api/campaigns/{ids['campaign']}", json={"status": "paused"})
    ).json()["status"] == "paused"
    assert (
        await owner.patch(f"/api/bookings/{ids['booking']}", json={"usage_rights_days": 90})
    ).json()["usage_rights_days"] == 90
    second = await _created(
        owner, f"/api/bookings/{ids['booking']}/posts", {"url": "https://youtu.be/dQw4w9WgXcQ"}
    )
    assert second["url"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert (await owner.delete(f"/api/posts/{ids['post']}")).status_code == 204
    assert (await owner.delete(f"/api/posts/{ids['post']}")).status_code == 404
    assert (await owner.delete(f"/api/campaigns/{ids['campaign']}")).status_code == 204
    assert (await owner.get(f"/api/campaigns/{ids['campaign']}")).status_code == 404
    assert (await owner.patch(f"/api/bookings/{ids['booking']}", json={})).status_code == 404

    rows = await admin_db.fetch(
        "SELECT entity, entity_id::text AS entity_id, action, actor, before, after "
        "FROM catalog.audit_log WHERE org_id = $1 AND entity_id = ANY($2::uuid[]) ORDER BY id",
        agency.ids["org_id"],
        [*ids.values(), second["id"]],
    )
    trail = [(r["entity"], r["entity_id"], r["action"]) for r in rows]
    assert trail == [
        ("client", ids["client"], "create"),
        ("campaign", ids["campaign"], "create"),
        ("influencer", ids["influencer"], "create"),
        ("booking", ids["booking"], "create"),
        ("post", ids["post"], "create"),
        ("influencer", ids["influencer"], "update"),
        ("campaign", ids["campaign"], "update"),
        ("booking", ids["booking"], "update"),
        ("post", second["id"], "create"),
        ("post", ids["post"], "delete"),
        ("post", second["id"], "delete"),  # deleting the campaign stops tracking its posts
        ("campaign", ids["campaign"], "delete"),
    ]
    assert {r["actor"] for r in rows} == {f"user:{agency.ids['user_id']}"}
    update = next(r for r in rows if r["entity"] == "campaign" and r["action"] == "update")
    before, after = (
        json.loads(v) if isinstance(v, str) else v for v in (update["before"], update["after"])
    )
    assert (before["status"], after["status"]) == ("live", "paused")

    await probe.wait_for(
        lambda evs: (
            any(e["type"] == "catalog.campaign.deleted" for e in evs)
            and sum(e["type"] == "catalog.post.removed" for e in evs) >= 2
        )
    )
    removed = [e["data"] for e in probe.events if e["type"] == "catalog.post.removed"]
    assert {d["id"] for d in removed} >= {ids["post"], second["id"]}
    assert all(d["campaign_id"] == ids["campaign"] for d in removed)
    [deleted] = [e["data"] for e in probe.events if e["type"] == "catalog.campaign.deleted"]
    assert deleted["id"] == ids["campaign"]
    assert deleted["deleted_at"]
    paused = [e["data"] for e in probe.of(ids["campaign"]) if e["type"].endswith("upserted")]
    assert paused[-1]["status"] == "paused"


async def test_booking_deletion_is_published(owner: httpx.AsyncClient, probe: Probe) -> None:
    made = await _catalog(owner, "cancel")
    booking_id = made["booking"]["id"]
    assert (await owner.delete(f"/api/bookings/{booking_id}")).status_code == 204
    await probe.wait_for(lambda evs: any(e["type"] == "catalog.booking.deleted" for e in evs))
    [deleted] = [e["data"] for e in probe.events if e["type"] == "catalog.booking.deleted"]
    assert deleted["id"] == booking_id
    assert deleted["campaign_id"] == made["campaign"]["id"]


async def test_campaign_filters_and_pagination(owner: httpx.AsyncClient) -> None:
    tag = uuid4().hex[:6]
    globex = await _created(owner, "/api/clients", {"name": f"Globex {tag}"})
    initech = await _created(owner, "/api/clients", {"name": f"Initech {tag}"})
    made: list[dict[str, Any]] = []
    for i in range(7):
        made.append(
            await _created(
                owner,
                "/api/campaigns",
                {
                    "client_id": (globex if i % 2 == 0 else initech)["id"],
                    "name": f"{tag} {'Spring' if i < 3 else 'Autumn'} drop {i}",
                    "status": "live" if i % 3 == 0 else "draft",
                    "start_date": "2026-03-01",
                    "end_date": "2026-03-31",
                },
            )
        )

    async def names(**params: str) -> list[str]:
        body = (await owner.get("/api/campaigns", params={"limit": "200", **params})).json()
        return [c["name"] for c in body["items"] if c["name"].startswith(tag)]

    newest_first = [c["name"] for c in reversed(made)]
    assert await names(q=tag) == newest_first
    assert await names(q=f"{tag} SPRING") == [n for n in newest_first if "Spring" in n]
    assert await names(q=tag, status="live") == [newest_first[i] for i in (0, 3, 6)]
    assert await names(client_id=initech["id"]) == [made[i]["name"] for i in (5, 3, 1)]
    assert await names(client_id=globex["id"], status="live") == [made[i]["name"] for i in (6, 0)]
    assert await names(q=f"{tag}%") == []  # wildcards are literal text
    assert await names(client_id=str(uuid4())) == []

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", "q": tag, **({"cursor": cursor} if cursor else {})}
        body = (await owner.get("/api/campaigns", params=params)).json()
        assert len(body["items"]) <= 3
        seen += [c["name"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first


async def test_influencer_list_and_patch(owner: httpx.AsyncClient) -> None:
    tag = uuid4().hex[:6]
    for i in range(4):
        await _created(owner, "/api/influencers", {"display_name": f"{tag} Creator {i}"})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", "q": tag, **({"cursor": cursor} if cursor else {})}
        body = (await owner.get("/api/influencers", params=params)).json()
        seen += [i["display_name"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"{tag} Creator {i}" for i in (3, 2, 1, 0)]
    created = (await owner.get("/api/influencers", params={"q": f"{tag} creator 2"})).json()
    [target] = created["items"]
    patched = await owner.patch(
        f"/api/influencers/{target['id']}", json={"tier": None, "notes": "prefers email"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["tier"] is None
    assert patched.json()["notes"] == "prefers email"
    assert patched.json()["display_name"] == f"{tag} Creator 2"
    detail = (await owner.get(f"/api/influencers/{target['id']}")).json()
    assert detail["bookings"] == []


async def test_a_sheet_of_post_urls_starts_tracking_each_row_once(
    owner: httpx.AsyncClient, rival: Agency
) -> None:
    made = await _catalog(owner, "sheet")
    booking, campaign_id = made["booking"]["id"], made["campaign"]["id"]
    stranger = await rival.login()
    theirs = await _catalog(stranger, "theirs")
    await stranger.aclose()
    sheet = (
        "\ufeffBooking_ID;Post URL;URL\n"  # a BOM, semicolons and an extra column, as Excel saves
        f"{booking};ignored;https://www.tiktok.com/@ana.rivera/video/7433917265401856999\n"
        f"{booking};;https://www.instagram.com/p/CxYz123AbC/\n"
        "\n"
        f"not-a-booking;;https://www.tiktok.com/@ana.rivera/video/7433917265401856998\n"
        f"{booking};;https://example.com/not-a-post\n"
        f"{theirs['booking']['id']};;https://www.tiktok.com/@ana.rivera/video/7433917265401856997\n"
        f"{booking};;https://www.tiktok.com/@ana.rivera/video/7433917265401856302\n"
    ).encode()
    files = {"file": ("posts.csv", sheet, "text/csv")}
    first = await owner.post("/api/imports/posts", files=files)
    assert first.status_code == 200, first.text
    result = first.json()
    assert (result["registered"], result["already_tracked"], result["rejected"]) == (2, 1, 3)
    assert [(e["line"], e["field"]) for e in result["errors"]] == [
        (5, "booking_id"),
        (6, "url"),
        (7, "booking_id"),  # another agency's booking is as unknown as a missing one
    ]
    tracked = (await owner.get(f"/api/campaigns/{campaign_id}/posts")).json()["items"]
    assert {p["url"] for p in tracked} >= {p["url"] for p in result["posts"]}
    assert {p["platform"] for p in tracked if p["id"] in {x["id"] for x in result["posts"]}} == {
        "tiktok",
        "instagram",
    }
    again = (await owner.post("/api/imports/posts", files=files)).json()
    assert (again["registered"], again["already_tracked"]) == (0, 3)

    unusable = await owner.post(
        "/api/imports/posts", files={"file": ("p.csv", b"campaign,link\nx,y\n", "text/csv")}
    )
    assert unusable.status_code == 422
    assert "booking_id" in unusable.json()["error"]["message"]
