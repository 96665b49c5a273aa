"""The n8n-facing ingest surface as a user of the webhook sees it: ingest runs as a real process
over real PostgreSQL and RabbitMQ, learns a fresh organization from catalog events, and is fed
over HTTP (`POST /api/ingest/posts`) and AMQP (`pulse.ingest` / `ingest.posts`)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from pulse_contracts import utcnow
from pulse_contracts.catalog import (
    ApiTokenRevoked,
    ApiTokenUpserted,
    BookingUpserted,
    CampaignUpserted,
    OrganizationUpserted,
    PostRegistered,
)
from tests.support.scenario import Bus, fixtures_dir
from tests.support.servers import Servers
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration

LOGS = ROOT / "test-artifacts" / "logs"
ROUTE = "/api/ingest/posts"
HTTP, AMQP = 1, 2  # ingest.samples.source codes
WAIT_S = 10.0
MAX_BODY_BYTES = 5 * 1024 * 1024


def _fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((fixtures_dir() / name).read_text())
    return body


TIKTOK = _fixture("tiktok_video.json")
INSTAGRAM = _fixture("instagram_post.json")
YOUTUBE = _fixture("youtube_video.json")
FACEBOOK = _fixture("facebook_post.json")
OUT_OF_CREDITS = _fixture("error_402_out_of_credits.json")
_IG = INSTAGRAM["data"]["xdt_shortcode_media"]
_TT = TIKTOK["aweme_detail"]

# Each fixture's platform post id and the counters a user expects stored, read straight from
# the provider body (fixtures README): None where the platform does not expose the counter.
RAW_BODIES: dict[str, dict[str, Any]] = {
    "tiktok": {
        "body": TIKTOK,
        "ppid": _TT["aweme_id"],
        "url": _TT["url"],
        "counters": {
            "views": _TT["statistics"]["play_count"],
            "likes": _TT["statistics"]["digg_count"],
            "comments": _TT["statistics"]["comment_count"],
            "shares": _TT["statistics"]["share_count"],
            "saves": _TT["statistics"]["collect_count"],
            "reach": None,
        },
    },
    "instagram": {
        "body": INSTAGRAM,
        "ppid": _IG["shortcode"],
        "url": f"https://www.instagram.com/reel/{_IG['shortcode']}/",
        "counters": {
            "views": _IG["video_play_count"],
            "likes": _IG["edge_media_preview_like"]["count"],
            "comments": _IG["edge_media_to_parent_comment"]["count"],
            "shares": None,
            "saves": None,
            "reach": None,
        },
    },
    "youtube": {
        "body": YOUTUBE,
        "ppid": YOUTUBE["id"],
        "url": YOUTUBE["url"],
        "counters": {
            "views": YOUTUBE["viewCountInt"],
            "likes": YOUTUBE["likeCountInt"],
            "comments": YOUTUBE["commentCountInt"],
            "shares": None,
            "saves": None,
            "reach": None,
        },
    },
    "facebook": {
        "body": FACEBOOK,
        "ppid": FACEBOOK["post_id"],
        "url": FACEBOOK["url"],
        "counters": {
            "views": FACEBOOK["view_count"],
            "likes": FACEBOOK["like_count"],
            "comments": FACEBOOK["comment_count"],
            "shares": FACEBOOK["share_count"],
            "saves": None,
            "reach": None,
        },
    },
}
COUNTERS = ("views", "likes", "comments", "shares", "saves", "reach")


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ingest(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    proc = ServiceProcess("ingest", service_env, LOGS)
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
async def bus(servers: Servers, ingest: ServiceProcess) -> AsyncIterator[Bus]:
    # Depends on ingest: its start-up declares the exchanges and queues Bus publishes to.
    async with Bus(servers.amqp_url) as connected:
        yield connected


@dataclass
class Tenant:
    """A fresh organization ingest has learned: tokens, one campaign, one booking, four posts."""

    org_id: UUID
    ingest_token: str
    read_token: str
    ingest_token_id: UUID
    campaign_id: UUID
    booking_id: UUID
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by platform

    def post(self, platform: str) -> dict[str, Any]:
        return self.posts[platform]

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ingest_token}"}


def _token_event(org_id: UUID, token: str, scopes: list[str], stamp: datetime) -> ApiTokenUpserted:
    return ApiTokenUpserted(
        id=uuid4(),
        org_id=org_id,
        name=f"{'+'.join(scopes)} token",
        token_sha256=hashlib.sha256(token.encode()).hexdigest(),
        scopes=scopes,
        updated_at=stamp,
    )


@pytest.fixture
async def tenant(bus: Bus, admin_db: asyncpg.Connection) -> Tenant:
    """Publish a fresh organization's catalog and wait until ingest tracks all of it."""
    stamp = utcnow() - timedelta(days=1)
    org_id, client_id, campaign_id, booking_id = uuid4(), uuid4(), uuid4(), uuid4()
    ingest_token, read_token = f"pulse_ingest_{uuid4().hex}", f"pulse_read_{uuid4().hex}"
    ingest_event = _token_event(org_id, ingest_token, ["ingest"], stamp)
    read_event = _token_event(org_id, read_token, ["read"], stamp)
    t = Tenant(org_id, ingest_token, read_token, ingest_event.id, campaign_id, booking_id)
    for platform, spec in RAW_BODIES.items():
        # Every post carries its fixture's platform post id, so raw bodies find it.
        t.posts[platform] = {
            "id": uuid4(),
            "platform": platform,
            "platform_post_id": spec["ppid"],
            "url": spec["url"],
        }
    today = date.today()
    events = [
        OrganizationUpserted(id=org_id, name=f"Org {org_id.hex[:8]}", updated_at=stamp),
        ingest_event,
        read_event,
        CampaignUpserted(
            id=campaign_id,
            client_id=client_id,
            name="Linen Launch",
            status="live",
            start_date=today - timedelta(days=3),
            end_date=today + timedelta(days=10),
            updated_at=stamp,
        ),
        BookingUpserted(
            id=booking_id,
            campaign_id=campaign_id,
            influencer_id=uuid4(),
            fee_cents=100_000,
            updated_at=stamp,
        ),
        *[
            PostRegistered(
                id=p["id"],
                booking_id=booking_id,
                campaign_id=campaign_id,
                platform=p["platform"],
                url=p["url"],
                platform_post_id=p["platform_post_id"],
                registered_at=stamp,
            )
            for p in t.posts.values()
        ],
    ]
    for event in events:
        await bus.publish_event(org_id, event)

    async def learned() -> bool:
        posts = await admin_db.fetchval(
            "SELECT count(*) FROM ingest.tracked_posts WHERE org_id = $1", org_id
        )
        tokens = await admin_db.fetchval(
            "SELECT count(*) FROM ingest.api_tokens WHERE org_id = $1", org_id
        )
        return bool(posts == len(t.posts) and tokens == 2)

    await _until(learned, "ingest never learned the catalog")
    return t


@pytest.fixture
async def http(ingest: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=ingest.url, timeout=30) as client:
        yield client


@dataclass
class Pulled:
    envelope: dict[str, Any]
    correlation_id: str | None


class PulledProbe:
    """An exclusive queue bound to pulse.events / post.pulled: every post.pulled published."""

    def __init__(self) -> None:
        self.messages: list[Pulled] = []
        self._arrived = asyncio.Event()

    async def on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            self.messages.append(Pulled(json.loads(message.body), message.correlation_id))
        self._arrived.set()

    def of(self, org_id: UUID) -> list[Pulled]:
        return [m for m in self.messages if m.envelope["org_id"] == str(org_id)]

    async def settle(self, org_id: UUID, *, expect: int, quiet_s: float = 1.0) -> list[Pulled]:
        """Wait until `expect` messages of the org arrived, then a quiet spell for extra ones."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAIT_S):
                while len(self.of(org_id)) < expect:
                    self._arrived.clear()
                    await self._arrived.wait()
        await asyncio.sleep(quiet_s)
        return self.of(org_id)


@pytest.fixture
async def pulled(servers: Servers, ingest: ServiceProcess) -> AsyncIterator[PulledProbe]:
    probe = PulledProbe()
    connection = await aio_pika.connect_robust(servers.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange("pulse.events")
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="post.pulled")
        await queue.consume(probe.on_message)
        yield probe
    finally:
        await connection.close()


# --- helpers -------------------------------------------------------------------------------


async def _until(check: Callable[[], Awaitable[bool]], message: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.03)


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _at(minutes_ago: float) -> datetime:
    """A distinct, whole-millisecond moment in the past (exactly representable in PostgreSQL)."""
    ts = utcnow() - timedelta(minutes=minutes_ago)
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


def _item(post: dict[str, Any], observed_at: datetime, views: int = 1000, **extra: Any) -> Any:
    return {
        "post_id": str(post["id"]),
        "observed_at": _iso(observed_at),
        "metrics": {"views": views, "likes": views // 10, "comments": 5, "shares": 2, "saves": 1},
        **extra,
    }


async def _samples(db: asyncpg.Connection, post_id: UUID) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT s.* FROM ingest.samples AS s JOIN ingest.tracked_posts AS p "
            "ON p.key = s.post_key WHERE p.id = $1 ORDER BY s.observed_at",
            post_id,
        )
    )


async def _sample_count(db: asyncpg.Connection, org_id: UUID) -> int:
    return int(
        await db.fetchval(
            "SELECT count(*) FROM ingest.samples AS s JOIN ingest.tracked_posts AS p "
            "ON p.key = s.post_key WHERE p.org_id = $1",
            org_id,
        )
    )


async def _rejections(db: asyncpg.Connection, org_id: UUID) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT org_id, channel, item_index, code, message, raw::text AS raw "
        "FROM ingest.rejected_items WHERE org_id = $1 ORDER BY id",
        org_id,
    )
    return [{**dict(r), "raw": json.loads(r["raw"]) if r["raw"] else None} for r in rows]


def _counters(row: asyncpg.Record) -> dict[str, Any]:
    return {name: row[name] for name in COUNTERS}


async def _post(
    http: httpx.AsyncClient, tenant: Tenant, body: Any, **headers: str
) -> httpx.Response:
    return await http.post(ROUTE, json=body, headers={**tenant.bearer, **headers})


# --- 1. authentication ---------------------------------------------------------------------


async def test_bad_credentials_answer_401_and_store_nothing(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    body = _item(tenant.post("tiktok"), _at(30))
    attempts: list[dict[str, str]] = [
        {},
        {"Authorization": f"Bearer pulse_ingest_{uuid4().hex}"},
        {"X-Pulse-Key": f"pulse_ingest_{uuid4().hex}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {tenant.read_token}"},
        {"X-Pulse-Key": tenant.read_token},
        # The ingest token, but not presented as a bearer token.
        {"Authorization": f"Basic {tenant.ingest_token}"},
    ]
    for headers in attempts:
        response = await http.post(ROUTE, json=body, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
    assert await _sample_count(admin_db, tenant.org_id) == 0


async def test_bearer_and_x_pulse_key_both_authenticate(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    post = tenant.post("tiktok")
    by_bearer = await http.post(
        ROUTE, json=_item(post, _at(30)), headers={"Authorization": f"Bearer {tenant.ingest_token}"}
    )
    by_key = await http.post(
        ROUTE, json=_item(post, _at(20)), headers={"X-Pulse-Key": tenant.ingest_token}
    )
    for response in (by_bearer, by_key):
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert len(await _samples(admin_db, post["id"])) == 2


async def test_a_revoked_token_answers_401(
    http: httpx.AsyncClient, tenant: Tenant, bus: Bus, admin_db: asyncpg.Connection
) -> None:
    post = tenant.post("instagram")
    assert (await _post(http, tenant, _item(post, _at(30)))).status_code == 200

    await bus.publish_event(
        tenant.org_id,
        ApiTokenRevoked(id=tenant.ingest_token_id, org_id=tenant.org_id, revoked_at=utcnow()),
    )

    async def revoked() -> bool:
        return bool(
            await admin_db.fetchval(
                "SELECT revoked_at IS NOT NULL FROM ingest.api_tokens WHERE id = $1",
                tenant.ingest_token_id,
            )
        )

    await _until(revoked, "ingest never learned of the revocation")
    for headers in (tenant.bearer, {"X-Pulse-Key": tenant.ingest_token}):
        response = await http.post(ROUTE, json=_item(post, _at(10)), headers=headers)
        assert response.status_code == 401, response.text
    assert len(await _samples(admin_db, post["id"])) == 1


# --- 2. unusable bodies --------------------------------------------------------------------


async def test_non_json_body_is_400_and_kept_as_invalid_body(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    text = f"views=12,likes=3 not-json-{uuid4().hex}"
    response = await http.post(
        ROUTE, content=text.encode(), headers={**tenant.bearer, "Content-Type": "text/plain"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"
    kept = await _rejections(admin_db, tenant.org_id)
    assert len(kept) == 1
    assert kept[0]["code"] == "invalid_body"
    assert kept[0]["channel"] == "http"
    assert kept[0]["item_index"] is None
    assert kept[0]["raw"] == {"unparsed": text}


async def test_an_item_with_nul_characters_is_kept_not_lost(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    """PostgreSQL cannot store NUL; the item is still kept, with U+FFFD in its place."""
    item = {
        "url": "https://www.tiktok.com/@x/video/1\u0000",
        "metrics": {"views": 1},
        "note": "\u0000",
    }
    response = await _post(http, tenant, [item])
    assert response.status_code == 200, response.text
    assert [r["code"] for r in response.json()["rejected"]] == ["invalid_item"]
    kept = await _rejections(admin_db, tenant.org_id)
    assert kept[0]["raw"]["note"] == "\ufffd"
    assert kept[0]["raw"]["url"].endswith("1\ufffd")


async def test_more_than_1000_items_is_413(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    post = tenant.post("tiktok")
    start = _at(2000)
    items = [_item(post, start + timedelta(seconds=i)) for i in range(1001)]
    response = await _post(http, tenant, items)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    assert await _sample_count(admin_db, tenant.org_id) == 0

    # 1000 is within the limit, the same items as {"items": [...]}.
    response = await _post(http, tenant, {"items": items[:1000]})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1000
    assert await _sample_count(admin_db, tenant.org_id) == 1000


def _big_batch(tenant: Tenant) -> bytes:
    """950 valid items, together just over 5 MB (each carries a TikTok body, long caption)."""
    post = tenant.post("tiktok")
    start = _at(500)
    raw = {**TIKTOK, "aweme_detail": {**_TT, "desc": "linen " * 420}}
    items = [{**_item(post, start + timedelta(seconds=i)), "raw": raw} for i in range(950)]
    body = json.dumps(items).encode()
    assert MAX_BODY_BYTES < len(body) < MAX_BODY_BYTES * 1.3
    return body


async def test_body_over_5_mb_is_413(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    body = _big_batch(tenant)
    headers = {**tenant.bearer, "Content-Type": "application/json"}
    response = await http.post(ROUTE, content=body, headers=headers)
    assert response.status_code == 413, response.text

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 256 * 1024):
            yield body[i : i + 256 * 1024]

    # Without a Content-Length (chunked), the limit is enforced while reading.
    response = await http.post(ROUTE, content=chunks(), headers=headers)
    assert response.status_code == 413, response.text
    assert await _sample_count(admin_db, tenant.org_id) == 0


# --- 3. a mixed batch ----------------------------------------------------------------------


def _mixed_batch(tenant: Tenant) -> tuple[list[Any], dict[int, str]]:
    tiktok, instagram = tenant.post("tiktok"), tenant.post("instagram")
    now = utcnow()
    valid = _item(tiktok, _at(60), views=5000)
    items: list[Any] = [
        valid,  # 0 accepted
        dict(valid),  # 1 the same post and observed_at: a duplicate
        {  # 2 no such post in this organization
            "platform": "tiktok",
            "platform_post_id": f"unknown-{uuid4().hex}",
            "observed_at": _iso(_at(60)),
            "metrics": {"views": 10},
        },
        _item(instagram, now + timedelta(minutes=10)),  # 3 too far in the future
        _item(instagram, now + timedelta(minutes=4)),  # 4 within the 5 minute tolerance
        {**_item(tiktok, _at(50)), "metrics": {"views": -1, "likes": 3}},  # 5 invalid
        OUT_OF_CREDITS,  # 6 a raw 402 provider body
    ]
    codes = {
        2: "unknown_post",
        3: "observed_at_in_future",
        5: "invalid_item",
        6: "out_of_credits",
    }
    return items, codes


async def test_mixed_batch_reports_each_item_and_keeps_every_rejection(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    items, codes = _mixed_batch(tenant)
    response = await _post(http, tenant, items)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accepted"] == 2
    assert result["duplicates"] == 1
    assert [(r["index"], r["code"]) for r in result["rejected"]] == sorted(codes.items())
    by_index = {r["index"]: r for r in result["rejected"]}
    assert "metrics.views" in by_index[5]["message"]
    assert all(r["message"] for r in result["rejected"])

    tiktok_rows = await _samples(admin_db, tenant.post("tiktok")["id"])
    assert [(r["observed_at"], r["views"], r["source"]) for r in tiktok_rows] == [
        (datetime.fromisoformat(items[0]["observed_at"]), 5000, HTTP)
    ]
    instagram_rows = await _samples(admin_db, tenant.post("instagram")["id"])
    assert [r["observed_at"] for r in instagram_rows] == [
        datetime.fromisoformat(items[4]["observed_at"])
    ]

    kept = await _rejections(admin_db, tenant.org_id)
    assert [(k["item_index"], k["code"], k["channel"]) for k in kept] == [
        (i, code, "http") for i, code in sorted(codes.items())
    ]
    stored = {k["item_index"]: k for k in kept}
    for index in (2, 3, 5):
        assert stored[index]["raw"] == items[index]
        assert stored[index]["message"] == by_index[index]["message"]
    # The provider body's stored raw is checked on its own below.
    assert stored[6]["raw"] is not None


async def test_a_rejected_bare_provider_body_is_kept_as_sent(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    response = await _post(http, tenant, [OUT_OF_CREDITS])
    assert response.status_code == 200, response.text
    assert [r["code"] for r in response.json()["rejected"]] == ["out_of_credits"]
    kept = await _rejections(admin_db, tenant.org_id)
    assert [k["raw"] for k in kept] == [OUT_OF_CREDITS]


# --- 4. resending ----------------------------------------------------------------------------


async def test_resending_the_same_batch_only_counts_duplicates(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    items = [
        _item(tenant.post(platform), _at(100 - i), views=100 * i)
        for i, platform in enumerate(["tiktok", "instagram", "youtube", "facebook"] * 2)
    ]
    first = await _post(http, tenant, items)
    assert first.json() == {"accepted": 8, "duplicates": 0, "rejected": []}
    stored = await _sample_count(admin_db, tenant.org_id)
    assert stored == 8

    again = await _post(http, tenant, items)
    assert again.status_code == 200, again.text
    assert again.json() == {"accepted": 0, "duplicates": 8, "rejected": []}
    assert await _sample_count(admin_db, tenant.org_id) == stored


async def test_resending_a_mixed_batch_accepts_nothing_new(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    items, codes = _mixed_batch(tenant)
    # The in-tolerance future item is pinned so both sends carry exactly the same item.
    first = (await _post(http, tenant, items)).json()
    stored = await _sample_count(admin_db, tenant.org_id)
    again = (await _post(http, tenant, items)).json()
    assert first["accepted"] == 2
    assert again["accepted"] == 0
    # Every item that matched a post is now a duplicate: both copies of item 0, and item 4.
    assert again["duplicates"] == first["accepted"] + first["duplicates"]
    assert [(r["index"], r["code"]) for r in again["rejected"]] == sorted(codes.items())
    assert await _sample_count(admin_db, tenant.org_id) == stored


# --- 5. raw ScrapeCreators bodies ------------------------------------------------------------


@pytest.mark.parametrize(
    "platform",
    [
        "tiktok",
        "instagram",
        "youtube",
        "facebook",
    ],
)
async def test_a_bare_provider_body_is_stored_with_its_counters(
    platform: str, http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    spec = RAW_BODIES[platform]
    before = utcnow()
    response = await _post(http, tenant, spec["body"])
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    rows = await _samples(admin_db, tenant.post(platform)["id"])
    assert len(rows) == 1
    assert _counters(rows[0]) == spec["counters"]
    # observed_at defaults to the moment of receipt.
    assert before - timedelta(seconds=5) <= rows[0]["observed_at"] <= utcnow()


@pytest.mark.parametrize("platform", list(RAW_BODIES))
async def test_a_wrapped_provider_body_is_stored_with_its_counters(
    platform: str, http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    spec = RAW_BODIES[platform]
    observed = _at(45)
    response = await _post(http, tenant, {"raw": spec["body"], "observed_at": _iso(observed)})
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    rows = await _samples(admin_db, tenant.post(platform)["id"])
    assert [(r["observed_at"], _counters(r), r["source"]) for r in rows] == [
        (observed, spec["counters"], HTTP)
    ]


async def test_instagram_and_youtube_shares_and_saves_are_null_not_zero(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    items = [
        {"raw": RAW_BODIES[p]["body"], "observed_at": _iso(_at(30))}
        for p in ("instagram", "youtube")
    ]
    assert (await _post(http, tenant, items)).json()["accepted"] == 2
    for platform in ("instagram", "youtube"):
        (row,) = await _samples(admin_db, tenant.post(platform)["id"])
        assert row["shares"] is None
        assert row["saves"] is None
        assert _counters(row) == RAW_BODIES[platform]["counters"]


# --- 6. body shapes --------------------------------------------------------------------------


async def test_one_item_an_array_and_an_items_object_all_work(
    http: httpx.AsyncClient, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    post = tenant.post("facebook")
    one = _item(post, _at(90))
    array = [_item(post, _at(80)), _item(post, _at(70))]
    wrapped = {"items": [_item(post, _at(60)), _item(post, _at(50)), _item(post, _at(40))]}
    for body, expected in ((one, 1), (array, 2), (wrapped, 3)):
        response = await _post(http, tenant, body)
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": expected, "duplicates": 0, "rejected": []}
    assert len(await _samples(admin_db, post["id"])) == 6


# --- 7. AMQP ---------------------------------------------------------------------------------


async def test_amqp_message_with_a_valid_key_lands_as_samples(
    bus: Bus, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    post = tenant.post("tiktok")
    items = [_item(post, _at(30), views=111), _item(post, _at(20), views=222)]
    await bus.publish_items(tenant.ingest_token, {"items": items})

    async def landed() -> bool:
        return len(await _samples(admin_db, post["id"])) == 2

    await _until(landed, "AMQP items never became samples")
    rows = await _samples(admin_db, post["id"])
    assert [(r["views"], r["source"]) for r in rows] == [(111, AMQP), (222, AMQP)]


async def test_amqp_message_with_a_bad_key_is_kept_as_unauthorized(
    bus: Bus, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    marker = f"marker-{uuid4().hex}"
    item = {**_item(tenant.post("tiktok"), _at(30)), "platform_post_id": marker}
    await bus.publish_items(f"pulse_ingest_{uuid4().hex}", item)
    query = (
        "SELECT org_id, channel, code, raw::text AS raw FROM ingest.rejected_items "
        "WHERE code = 'unauthorized' AND raw::text LIKE $1"
    )
    found: list[asyncpg.Record] = []

    async def kept() -> bool:
        found[:] = await admin_db.fetch(query, f"%{marker}%")
        return bool(found)

    await _until(kept, "a message with a bad key was not kept")
    (row,) = found
    assert row["org_id"] is None
    assert row["channel"] == "amqp"
    assert json.loads(json.loads(row["raw"])["unparsed"]) == item
    assert await _sample_count(admin_db, tenant.org_id) == 0


async def test_amqp_non_json_body_with_a_valid_key_is_kept_as_invalid_body(
    bus: Bus, tenant: Tenant, admin_db: asyncpg.Connection
) -> None:
    text = f"<html>n8n misconfigured {uuid4().hex}</html>"
    exchange = await bus.channel.get_exchange("pulse.ingest")
    await exchange.publish(
        aio_pika.Message(text.encode(), headers={"x-pulse-key": tenant.ingest_token}),
        routing_key="ingest.posts",
    )
    found: list[dict[str, Any]] = []

    async def kept() -> bool:
        found[:] = await _rejections(admin_db, tenant.org_id)
        return bool(found)

    await _until(kept, "a non-JSON AMQP body was not kept")
    (row,) = found
    assert (row["code"], row["channel"], row["item_index"]) == ("invalid_body", "amqp", None)
    assert row["raw"] == {"unparsed": text}


# --- 8. one post.pulled per accepted batch ---------------------------------------------------


async def test_one_post_pulled_per_accepted_batch(
    http: httpx.AsyncClient, tenant: Tenant, pulled: PulledProbe
) -> None:
    posts = [tenant.post(p) for p in ("tiktok", "instagram", "youtube")]
    start = _at(600)
    items = [
        _item(post, start + timedelta(minutes=10 * i), views=1000 + i)
        for i in range(10)
        for post in posts
    ]
    assert len(items) == 30
    response = await _post(http, tenant, items)
    assert response.json() == {"accepted": 30, "duplicates": 0, "rejected": []}

    (message,) = await pulled.settle(tenant.org_id, expect=1)
    envelope = message.envelope
    assert envelope["type"] == "post.pulled"
    assert envelope["producer"] == "ingest"
    samples = envelope["data"]["samples"]
    assert len(samples) == 30
    assert {s["source"] for s in samples} == {"http"}
    assert {s["booking_id"] for s in samples} == {str(tenant.booking_id)}
    assert {s["campaign_id"] for s in samples} == {str(tenant.campaign_id)}
    sent = sorted(
        (str(post["id"]), post["platform"], 1000 + i) for i in range(10) for post in posts
    )
    got = sorted((s["post_id"], s["platform"], s["views"]) for s in samples)
    assert got == sent

    # The very same request again: every item is a duplicate, so nothing is published.
    again = await _post(http, tenant, items)
    assert again.json() == {"accepted": 0, "duplicates": 30, "rejected": []}
    assert len(await pulled.settle(tenant.org_id, expect=1)) == 1


# --- 9. correlation ids ----------------------------------------------------------------------


async def test_request_id_is_echoed_and_becomes_the_events_correlation_id(
    http: httpx.AsyncClient, tenant: Tenant, pulled: PulledProbe
) -> None:
    request_id = f"n8n-run-{uuid4().hex}"
    response = await _post(
        http, tenant, _item(tenant.post("youtube"), _at(30)), **{"X-Request-ID": request_id}
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Request-ID"] == request_id

    (message,) = await pulled.settle(tenant.org_id, expect=1, quiet_s=0.2)
    assert message.envelope["correlation_id"] == request_id
    assert message.correlation_id == request_id

    refused = await http.post(ROUTE, json={}, headers={"X-Request-ID": request_id})
    assert refused.status_code == 401
    assert refused.headers["X-Request-ID"] == request_id
