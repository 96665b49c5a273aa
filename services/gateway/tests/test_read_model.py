"""The gateway's read model of the numbers: the same answers as the aggregator whatever the order
of events, newer always wins, and a gateway that was down (or starts later) catches up from its
own durable queue and table, without asking the aggregator."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from pulse_contracts import ContractError, Envelope, EventData, make_event, utcnow
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    extend_to,
    timeline_pct,
)
from pulse_contracts.posts import PostPulled, Sample
from pulse_gateway import numbers as numbers_reads
from pulse_gateway import read_model
from pulse_gateway.context import GatewayContext
from pulse_gateway.http_cache import dumps
from pulse_gateway.messages import NARROW
from pulse_gateway.read_model import NumbersReadModel
from pulse_runtime.messaging import parse_envelope
from tests.oracle.kpi_oracle import oracle_numbers
from tests.support.agency import PASSWORD, create_org
from tests.support.catalog import catalog_events, wait_for, write_catalog
from tests.support.scenario import Bus, Scenario, build_scenario
from tests.support.servers import Servers
from tests.support.services import ROOT, SERVICE_TOKEN, ServiceProcess, settings_for

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"
NAMES = ["Maya Styles", "Leo Runs", "Ana Sol"]


# ---------------------------------------------------------------------------------------------
# The table and the in-process copy, on real PostgreSQL


@pytest.fixture
async def gateway_pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    """Connected as the gateway's own role, so row-level security applies as in production."""
    pool = await asyncpg.create_pool(settings_for("gateway", servers).dsn, min_size=1, max_size=4)
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()


def versions(campaign_id: UUID, count: int, start: datetime) -> list[CampaignNumbers]:
    """Successive documents of one campaign: each later one computed later, with more views."""
    today = start.date()
    return [
        CampaignNumbers(
            campaign=CampaignFigures(
                campaign_id=campaign_id,
                name="Glow Serum Launch",
                status="live",
                start_date=today - timedelta(days=10),
                end_date=today + timedelta(days=20),
                committed_views=1_000_000,
                actual_views=10_000 * (n + 1),
                actual_engagement=700 * (n + 1),
                actual_posts=3,
                views_pct=1.0 * (n + 1),
            ),
            as_of=start + timedelta(seconds=n),
        )
        for n in range(count)
    ]


async def test_any_order_of_documents_ends_with_the_newest_as_the_aggregator_reads_it(
    gateway_pool: asyncpg.Pool,
) -> None:
    org_id, campaign_id = uuid4(), uuid4()
    docs = versions(campaign_id, 6, utcnow() - timedelta(minutes=5))
    newest = docs[-1]
    rng = random.Random(11)
    for _ in range(5):
        shuffled = docs + rng.sample(docs, 3)  # with replays
        rng.shuffle(shuffled)
        live = NumbersReadModel()
        for doc in shuffled:
            await read_model.store(gateway_pool, org_id, doc)
            live.offer(org_id, doc)
        # A replica that saw the events live, and one that only has the table.
        for model in (live, NumbersReadModel()):
            now = utcnow()
            got = await model.document(gateway_pool, org_id, campaign_id, now=now)
            assert got == extend_to(newest, now).model_dump(mode="json")
    # Days later, without a new document: the aggregator's rule brings it forward.
    later = utcnow() + timedelta(days=3, hours=5)
    got = await NumbersReadModel().document(gateway_pool, org_id, campaign_id, now=later)
    assert got == extend_to(newest, later).model_dump(mode="json")
    assert len(got["daily"]) > 0
    assert got["campaign"]["timeline_pct"] == timeline_pct(
        newest.campaign.start_date,  # type: ignore[arg-type]
        newest.campaign.end_date,  # type: ignore[arg-type]
        later,
    )


async def test_the_durable_consumer_keeps_the_document_sent_and_never_one_the_contract_refuses(
    gateway_pool: asyncpg.Pool,
) -> None:
    """Decoded only as far as its campaign and as_of when the live relay holds that very
    document; decoded whole first when it does not (a backlog after a restart), which is also
    what keeps a document the contract refuses out of the table."""
    org_id, campaign_id = uuid4(), uuid4()
    first, second, third = versions(campaign_id, 3, utcnow() - timedelta(minutes=1))

    def delivered(body: bytes) -> tuple[Envelope[EventData], bytes]:
        return parse_envelope(body, "kpi.updated", NARROW), body

    def body_of(doc: CampaignNumbers) -> bytes:
        event = make_event(doc, org_id=org_id, producer="aggregator")
        return event.model_dump_json().encode()

    async def in_the_table(now: datetime) -> dict[str, Any] | None:
        return await NumbersReadModel().document(gateway_pool, org_id, campaign_id, now=now)

    held = NumbersReadModel()
    held.offer(org_id, first)  # the live relay was first
    await read_model.on_kpi_updated(gateway_pool, held, *delivered(body_of(first)))
    now = utcnow()
    assert await in_the_table(now) == extend_to(first, now).model_dump(mode="json")

    # Not held by the live relay: decoded whole here, stored, and held.
    await read_model.on_kpi_updated(gateway_pool, held, *delivered(body_of(second)))
    now = utcnow()
    assert held.holds(campaign_id, second.as_of)
    assert await in_the_table(now) == extend_to(second, now).model_dump(mode="json")
    shown = await held.document(gateway_pool, org_id, campaign_id, now=now)
    assert shown == extend_to(second, now).model_dump(mode="json")

    # Refused by the contract in a field the stamp does not read: the DLQ's, not the table's.
    refused = body_of(third).replace(b'"status":"live"', b'"status":"dormant"')
    with pytest.raises(ContractError, match="status"):
        await read_model.on_kpi_updated(gateway_pool, held, *delivered(refused))
    now = utcnow()
    assert await in_the_table(now) == extend_to(second, now).model_dump(mode="json")
    assert not held.holds(campaign_id, third.as_of)


async def test_an_older_or_replayed_document_never_replaces_a_newer_one(
    gateway_pool: asyncpg.Pool,
) -> None:
    org_id, campaign_id = uuid4(), uuid4()
    old, new = versions(campaign_id, 2, utcnow() - timedelta(minutes=1))
    assert await read_model.store(gateway_pool, org_id, new)
    assert not await read_model.store(gateway_pool, org_id, old)
    assert not await read_model.store(gateway_pool, org_id, new)  # the same one replayed
    model = NumbersReadModel()
    model.offer(org_id, new)
    model.offer(org_id, old)
    for reader in (model, NumbersReadModel()):
        got = await reader.document(gateway_pool, org_id, campaign_id, now=utcnow())
        assert got is not None
        assert got["campaign"]["actual_views"] == new.campaign.actual_views


async def test_a_read_of_some_parts_is_the_whole_documents_parts(
    gateway_pool: asyncpg.Pool,
) -> None:
    org_id, campaign_id = uuid4(), uuid4()
    (doc,) = versions(campaign_id, 1, utcnow() - timedelta(days=2))
    model = NumbersReadModel()
    model.offer(org_id, doc)
    now = utcnow()
    whole = await model.document(gateway_pool, org_id, campaign_id, now=now)
    daily = await model.document(gateway_pool, org_id, campaign_id, now=now, parts=("daily",))
    bare = await model.document(gateway_pool, org_id, campaign_id, now=now, parts=())
    assert whole == extend_to(doc, now).model_dump(mode="json")
    assert daily == {k: whole[k] for k in ("campaign", "daily", "as_of")}
    assert bare == {k: whole[k] for k in ("campaign", "as_of")}


async def test_the_held_json_and_figures_are_what_a_document_read_gives(
    gateway_pool: asyncpg.Pool,
) -> None:
    """The daily route sends the held JSON as it is, and compare the figures validated once per
    document: both must be exactly what parsing a document read gives, also as the timeline
    moves and on a later day, and absent for another organization."""
    org_id, campaign_id = uuid4(), uuid4()
    (doc,) = versions(campaign_id, 1, utcnow() - timedelta(days=2))
    model = NumbersReadModel()
    model.offer(org_id, doc)
    for now in (utcnow(), utcnow() + timedelta(minutes=7), utcnow() + timedelta(days=1)):
        daily = await model.document(gateway_pool, org_id, campaign_id, now=now, parts=("daily",))
        raw = await model.part_json(gateway_pool, org_id, campaign_id, "daily", now=now)
        assert daily is not None
        assert raw == dumps(daily["daily"])
        bare = await model.document(gateway_pool, org_id, campaign_id, now=now, parts=())
        figures = await model.figures(gateway_pool, org_id, [campaign_id], now=now)
        assert bare is not None
        assert figures[campaign_id] == CampaignFigures.model_validate(bare["campaign"])
        assert figures[campaign_id].timeline_pct == bare["campaign"]["timeline_pct"]
    stranger = uuid4()
    assert await model.part_json(gateway_pool, stranger, campaign_id, "daily", now=now) is None
    assert await model.figures(gateway_pool, stranger, [campaign_id], now=now) == {}


async def test_each_booking_snapshot_is_sent_as_the_bytes_a_document_read_parses_to(
    gateway_pool: asyncpg.Pool,
) -> None:
    """The booking list splices each held snapshot into its answer unparsed: the spans must cut
    exactly each booking's JSON out of the held part, and the part be what json.dumps gives."""
    org_id, campaign_id = uuid4(), uuid4()
    (doc,) = versions(campaign_id, 1, utcnow() - timedelta(days=2))
    bookings = [
        BookingNumbers(booking_id=uuid4(), fee_cents=150_000 * n, actual_views=n * 1_001)
        for n in range(4)
    ]
    model = NumbersReadModel()
    model.offer(org_id, CampaignNumbers.model_validate({**dict(doc), "bookings": bookings}))
    empty_id = uuid4()
    model.offer(org_id, versions(empty_id, 1, utcnow())[0])
    for now in (utcnow(), utcnow() + timedelta(days=1)):
        read = await model.document(gateway_pool, org_id, campaign_id, now=now, parts=("bookings",))
        assert read is not None
        assert len(read["bookings"]) == 4
        want = {b["booking_id"]: dumps(b) for b in read["bookings"]}
        got = await model.booking_json(gateway_pool, org_id, campaign_id, now=now)
        assert got == want
        part = await model.part_json(gateway_pool, org_id, campaign_id, "bookings", now=now)
        assert part == dumps(read["bookings"])
    assert await model.booking_json(gateway_pool, org_id, empty_id, now=utcnow()) == {}
    assert await model.booking_json(gateway_pool, uuid4(), campaign_id, now=utcnow()) is None


async def test_another_organizations_campaign_is_not_found(gateway_pool: asyncpg.Pool) -> None:
    org_id, stranger, campaign_id = uuid4(), uuid4(), uuid4()
    (doc,) = versions(campaign_id, 1, utcnow())
    await read_model.store(gateway_pool, org_id, doc)
    warm = NumbersReadModel()
    warm.offer(org_id, doc)
    for model in (warm, NumbersReadModel()):
        assert await model.document(gateway_pool, stranger, campaign_id, now=utcnow()) is None
        assert await model.document(gateway_pool, org_id, campaign_id, now=utcnow()) is not None


async def test_a_missing_document_is_asked_for_once_and_then_kept(
    gateway_pool: asyncpg.Pool,
) -> None:
    org_id, campaign_id, uncomputed = uuid4(), uuid4(), uuid4()
    (doc,) = versions(campaign_id, 1, utcnow())
    asked: list[UUID] = []

    async def aggregator(org: UUID, cid: UUID) -> dict[str, Any] | None:
        asked.append(cid)
        return doc.model_dump(mode="json") if cid == campaign_id else None

    model = NumbersReadModel()
    for _ in range(3):
        found = await model.numbers(
            gateway_pool, org_id, [campaign_id, uncomputed], now=utcnow(), backfill=aggregator
        )
        assert set(found) == {campaign_id}
    assert asked.count(campaign_id) == 1
    assert asked.count(uncomputed) == 1  # not asked again at once
    # Stored: another replica finds it without asking.
    found = await NumbersReadModel().document(gateway_pool, org_id, campaign_id, now=utcnow())
    assert found is not None


def test_memory_holds_at_most_its_capacity() -> None:
    model = NumbersReadModel(capacity=3)
    org_id = uuid4()
    for _ in range(10):
        (doc,) = versions(uuid4(), 1, utcnow())
        model.offer(org_id, doc)
    assert len(model._held) == 3


def test_memory_holds_at_most_its_bytes_of_json() -> None:
    org_id = uuid4()
    one = NumbersReadModel()
    one.offer(org_id, versions(uuid4(), 1, utcnow())[0])
    size = one.held_bytes
    assert size > 0
    model = NumbersReadModel(max_bytes=3 * size + size // 2)
    newest = []
    for _ in range(10):
        (doc,) = versions(uuid4(), 1, utcnow())
        model.offer(org_id, doc)
        newest.append(doc.campaign.campaign_id)
    assert list(model._held) == newest[-3:]  # the least recently used went first
    assert model.held_bytes <= model.max_bytes


async def test_a_replica_that_missed_a_live_event_serves_the_newer_document_of_the_table(
    gateway_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id, campaign_id = uuid4(), uuid4()
    old, new = versions(campaign_id, 2, utcnow() - timedelta(minutes=1))
    await read_model.store(gateway_pool, org_id, old)
    model = NumbersReadModel()
    got = await model.document(gateway_pool, org_id, campaign_id, now=utcnow())
    assert got is not None
    assert got["campaign"]["actual_views"] == old.campaign.actual_views
    await read_model.store(gateway_pool, org_id, new)  # its live event never reached us
    monkeypatch.setattr(read_model, "MAX_AGE_S", 0.0)
    got = await model.document(gateway_pool, org_id, campaign_id, now=utcnow())
    assert got is not None
    assert got["campaign"]["actual_views"] == new.campaign.actual_views


# ---------------------------------------------------------------------------------------------
# Whole services: a gateway that was down, and one started later


@pytest.fixture(scope="module")
def aggregator(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    proc = ServiceProcess("aggregator", service_env, LOGS)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def gateway_process(env: dict[str, str], aggregator: ServiceProcess) -> ServiceProcess:
    return ServiceProcess("gateway", {**env, "PULSE_GATEWAY_AGGREGATOR_URL": aggregator.url}, LOGS)


async def login(base_url: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=15)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


def pulled(scenario: Scenario, samples: list[dict[str, Any]]) -> PostPulled:
    posts = {p["id"]: p for p in scenario.posts}
    return PostPulled(
        samples=[
            Sample(
                **s,
                booking_id=posts[s["post_id"]]["booking_id"],
                campaign_id=scenario.campaign["id"],
                platform=posts[s["post_id"]]["platform"],
                source="http",
            )
            for s in samples
        ]
    )


async def staff_view(client: httpx.AsyncClient, campaign_id: UUID) -> dict[str, Any]:
    detail = await client.get(f"/api/campaigns/{campaign_id}")
    bookings = await client.get(f"/api/campaigns/{campaign_id}/bookings")
    daily = await client.get(f"/api/campaigns/{campaign_id}/daily")
    assert detail.status_code == bookings.status_code == daily.status_code == 200
    return {
        "campaign": detail.json()["kpis"],
        "bookings": {b["id"]: b["kpis"] for b in bookings.json()["items"]},
        "daily": daily.json()["items"],
    }


def agrees(view: dict[str, Any], want: dict[str, Any], before: datetime, after: datetime) -> bool:
    """The staff view equals the oracle's numbers; the timeline is read somewhere in between."""
    campaign = dict(view["campaign"] or {})
    timeline = campaign.pop("timeline_pct", None)
    figures = {k: v for k, v in want["campaign"].items() if k != "timeline_pct"}
    c = want["campaign"]
    start, end = (datetime.fromisoformat(c[k]).date() for k in ("start_date", "end_date"))
    low, high = timeline_pct(start, end, before), timeline_pct(start, end, after)
    return (
        campaign == figures
        and timeline is not None
        and low is not None
        and high is not None
        and low <= timeline <= high
        and view["bookings"] == {str(b["booking_id"]): b for b in want["bookings"]}
        and view["daily"] == want["daily"]
    )


def difference(view: dict[str, Any], want: dict[str, Any]) -> str:
    """What `agrees` found unequal, for a failure report (a bare timeout said nothing)."""
    campaign = {k: v for k, v in (view["campaign"] or {}).items() if k != "timeline_pct"}
    figures = {k: v for k, v in want["campaign"].items() if k != "timeline_pct"}
    found = [
        f"campaign {k}: {campaign.get(k)!r:.120}, oracle {figures.get(k)!r:.120}"
        for k in sorted(campaign.keys() | figures.keys())
        if campaign.get(k) != figures.get(k)
    ]
    bookings = {str(b["booking_id"]): b for b in want["bookings"]}
    unequal = sorted(
        k
        for k in view["bookings"].keys() | bookings.keys()
        if view["bookings"].get(k) != bookings.get(k)
    )
    if unequal:
        found.append(f"bookings {unequal}")
    if view["daily"] != want["daily"]:
        first = next(
            (
                i
                for i, (a, b) in enumerate(zip(view["daily"], want["daily"], strict=False))
                if a != b
            ),
            None,
        )
        found.append(f"daily: {len(view['daily'])} days, oracle {len(want['daily'])}; day {first}")
    return "; ".join(found) or "timeline_pct outside the read's window"


async def test_a_backfill_never_beats_a_document_computed_before_it_but_delivered_after(
    service_env: dict[str, str],
    servers: Servers,
    gateway_pool: asyncpg.Pool,
    aggregator: ServiceProcess,
) -> None:
    """A read model missing a campaign asks the aggregator for it. That copy must carry its
    computation's time: stamped with the time of the read, it beat a kpi.updated computed
    just before the read (with samples the read did not see) but delivered just after it, and
    the gateway showed the older numbers until the campaign's next recompute (seen in CI)."""
    scenario = build_scenario(utcnow(), seed=59, raw_fixture=False)
    org_id, cid = scenario.org_id, scenario.campaign["id"]
    async with Bus(service_env["PULSE_AMQP_URL"]) as bus:
        for event in catalog_events(scenario):
            await bus.publish_event(org_id, event)

    def stored() -> CampaignNumbers | None:
        path = f"/internal/orgs/{org_id}/campaigns/{cid}/numbers"
        with aggregator.internal() as internal:
            found = internal.get(path, params={"as_computed": "true"})
        return CampaignNumbers.model_validate(found.json()) if found.status_code == 200 else None

    await wait_for(lambda: asyncio.to_thread(stored), 20, "the aggregator's first document")
    async with httpx.AsyncClient(
        headers={"X-Pulse-Service-Token": SERVICE_TOKEN}, timeout=10
    ) as client:
        # The gateway's own backfill: its peer client against the real aggregator.
        settings = settings_for("gateway", servers, aggregator_url=aggregator.url)
        gateway = SimpleNamespace(http=client, settings=settings)
        backfill = numbers_reads._from_aggregator(cast(GatewayContext, gateway))
        for _ in range(20):
            # The aggregator recomputes as the catalog arrives, so which document the backfill
            # got is known only when the aggregator held the same one before and after it.
            first = await asyncio.to_thread(stored)
            model = NumbersReadModel()
            found = await model.document(gateway_pool, org_id, cid, now=utcnow(), backfill=backfill)
            after = await asyncio.to_thread(stored)
            assert first is not None
            assert after is not None
            assert found is not None
            if after.as_of == first.as_of:
                break
            conn = await asyncpg.connect(servers.database_url)  # past row-level security
            try:
                await conn.execute(
                    "DELETE FROM catalog.campaign_numbers WHERE campaign_id = $1", cid
                )
            finally:
                await conn.close()
        else:
            raise AssertionError("the aggregator never held one document across a backfill")
        assert found["campaign"]["actual_views"] == first.campaign.actual_views == 0
    # The next computation, with the first samples in it, began right after the backfilled one.
    later = first.model_copy(
        update={
            "campaign": first.campaign.model_copy(update={"actual_views": 48_000}),
            "as_of": first.as_of + timedelta(microseconds=1),
        }
    )
    # The later document arrives live and through the durable consumer, after the backfill.
    model.offer(org_id, later)
    assert await read_model.store(gateway_pool, org_id, later)
    for reader in (model, NumbersReadModel()):
        got = await reader.document(gateway_pool, org_id, cid, now=utcnow())
        assert got is not None
        assert got["campaign"]["actual_views"] == 48_000


async def test_a_gateway_catches_up_after_a_restart_and_a_new_one_starts_with_everything(
    service_env: dict[str, str], servers: Servers, aggregator: ServiceProcess
) -> None:
    first = gateway_process(service_env, aggregator)
    first.start()
    second: ServiceProcess | None = None
    clients: list[httpx.AsyncClient] = []
    try:
        email = f"owner-{uuid4().hex[:8]}@northwind.agency"
        org = await asyncio.to_thread(create_org, service_env, "Northwind Talent", email, test=True)
        org_id = UUID(org["org_id"])
        scenario = build_scenario(utcnow(), seed=57, raw_fixture=False)
        scenario.org_id = org_id
        cid = scenario.campaign["id"]
        conn = await asyncpg.connect(servers.database_url)
        try:
            await write_catalog(conn, scenario, NAMES)
        finally:
            await conn.close()
        early, late = scenario.samples[::2], scenario.samples[1::2]
        staff = await login(first.url, email)
        clients.append(staff)

        last_difference: list[str] = []

        async def settled(
            client: httpx.AsyncClient, samples: list[dict[str, Any]]
        ) -> dict[str, Any] | None:
            before = utcnow()
            view = await staff_view(client, cid)
            after = utcnow()
            want = oracle_numbers(
                scenario.campaign, scenario.bookings, scenario.posts, samples, after
            )
            if agrees(view, want, before, after):
                return view
            last_difference[:] = [difference(view, want)]
            return None

        async def until_settled(
            client: httpx.AsyncClient, samples: list[dict[str, Any]], what: str
        ) -> None:
            try:
                await wait_for(lambda: settled(client, samples), 20, what)
            except AssertionError as exc:
                raise AssertionError(f"{exc}; last difference: {last_difference}") from None

        async with Bus(service_env["PULSE_AMQP_URL"]) as bus:
            for event in catalog_events(scenario):
                await bus.publish_event(org_id, event)
            await bus.publish_event(org_id, pulled(scenario, early))
            await until_settled(staff, early, "the first half in the gateway")
            with aggregator.internal() as internal:
                old = internal.get(f"/internal/orgs/{org_id}/campaigns/{cid}/numbers").json()

            # The gateway is down while the rest of the samples are computed.
            first.stop()
            await bus.publish_event(org_id, pulled(scenario, late))

            async def aggregator_done() -> bool | None:
                with aggregator.internal() as internal:
                    doc = internal.get(f"/internal/orgs/{org_id}/campaigns/{cid}/numbers").json()
                want = oracle_numbers(
                    scenario.campaign, scenario.bookings, scenario.posts, scenario.samples, utcnow()
                )
                return (
                    True
                    if doc["campaign"]["actual_views"] == want["campaign"]["actual_views"]
                    else None
                )

            await wait_for(aggregator_done, 20, "the aggregator to compute every sample")
            # With the aggregator gone too, nothing can be asked: only the read model answers.
            aggregator.stop()
            first.start()
            staff = await login(first.url, email)
            clients.append(staff)
            await until_settled(staff, scenario.samples, "the restarted gateway to catch up")

            second = gateway_process(service_env, aggregator)
            second.start()
            other = await login(second.url, email)
            clients.append(other)
            assert await settled(other, scenario.samples) is not None

            # A replay of an older kpi.updated changes nothing on either of them.
            await bus.publish_event(org_id, CampaignNumbers.model_validate(old))
            await asyncio.sleep(1.0)
            for client in (staff, other):
                assert await settled(client, scenario.samples) is not None
    finally:
        for client in clients:
            await client.aclose()
        first.stop()
        if second is not None:
            second.stop()
        aggregator.start()  # the module's fixture stops it at the end


async def test_numbers_reads_carry_an_etag_and_answer_304_when_unchanged(
    service_env: dict[str, str], servers: Servers, aggregator: ServiceProcess
) -> None:
    gateway = gateway_process(service_env, aggregator)
    gateway.start()
    try:
        email = f"owner-{uuid4().hex[:8]}@northwind.agency"
        org = await asyncio.to_thread(create_org, service_env, "Northwind Talent", email, test=True)
        org_id = UUID(org["org_id"])
        scenario = build_scenario(utcnow(), seed=58, raw_fixture=False)
        scenario.org_id = org_id
        cid = scenario.campaign["id"]
        conn = await asyncpg.connect(servers.database_url)
        try:
            await write_catalog(conn, scenario, NAMES)
        finally:
            await conn.close()
        staff = await login(gateway.url, email)
        async with Bus(service_env["PULSE_AMQP_URL"]) as bus, contextlib.aclosing(staff):
            for event in catalog_events(scenario):
                await bus.publish_event(org_id, event)
            await bus.publish_event(org_id, pulled(scenario, scenario.samples[:5]))

            seen: list[str] = []

            async def settled() -> httpx.Response | None:
                # The catalog events and the first samples may be computed in several passes:
                # wait until two reads in a row carry the same tag.
                r = await staff.get(f"/api/campaigns/{cid}/daily")
                if r.status_code != 200 or not r.json()["items"]:
                    return None
                seen.append(r.headers["etag"])
                return r if seen[-2:] == [r.headers["etag"]] * 2 else None

            first = await wait_for(settled, 20, "the first numbers to settle", step=0.5)
            tag = first.headers["etag"]
            assert first.headers["cache-control"] == "private, no-cache"
            again = await staff.get(f"/api/campaigns/{cid}/daily", headers={"If-None-Match": tag})
            assert again.status_code == 304
            assert again.content == b""
            assert again.headers["etag"] == tag

            await bus.publish_event(org_id, pulled(scenario, scenario.samples[5:]))

            async def changed() -> httpx.Response | None:
                r = await staff.get(f"/api/campaigns/{cid}/daily", headers={"If-None-Match": tag})
                return r if r.status_code == 200 else None

            fresh = await wait_for(changed, 20, "the new numbers to change the tag")
            assert fresh.headers["etag"] != tag
            assert fresh.json()["items"] != first.json()["items"]
    finally:
        gateway.stop()
