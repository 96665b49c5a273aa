"""ingest.samples by month (migration 0008, issue 17 "storage that grows"): an existing table
full of samples moves into monthly partitions without losing or changing a row; ingest makes
the months ahead itself; a backfill of an old month is stored at once and then moved into that
month's own partition; the duplicate rule that makes ingest idempotent holds throughout."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from pulse_contracts import utcnow
from pulse_ingest import repository
from pulse_ingest.domain import Candidate, Match, Metrics, TrackedPost
from pulse_ingest.sample_months import keep_months, months_from
from pulse_runtime.service import migrate
from pulse_runtime.settings import with_database
from tests.support.scenario import Bus, build_scenario
from tests.support.servers import Servers
from tests.support.services import (
    ROOT,
    SERVICE_TOKEN,
    ServiceProcess,
    migrations_dir,
    settings_for,
)

pytestmark = pytest.mark.integration

LOGS = ROOT / "test-artifacts" / "logs"
COLUMNS = "post_key, observed_at, views, likes, reach, comments, shares, saves, source, estimated"
# The insert ingest runs for every batch (pulse_ingest/sql/insert_samples.sql).
INSERT_SAMPLES = (
    ROOT / "services" / "ingest" / "pulse_ingest" / "sql" / "insert_samples.sql"
).read_text()
AHEAD = 2
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- the migration on a table that already holds samples -----------------------------------


@pytest.fixture
async def scratch(servers: Servers, tmp_path: Path) -> AsyncIterator[tuple[Servers, Path]]:
    """A database of its own, so ingest can be migrated to 0007 only; and 0001–0007 alone."""
    name = f"pulse_months_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(servers.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    upto_0007 = tmp_path / "migrations"
    upto_0007.mkdir()
    for path in sorted(migrations_dir("ingest").glob("*.sql")):
        if path.name < "0008":
            shutil.copy(path, upto_0007 / path.name)
    try:
        yield Servers(with_database(servers.database_url, name), servers.amqp_url), upto_0007
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _old_rows(keys: list[int]) -> list[tuple[Any, ...]]:
    """Samples of three posts across six months (one of them a 1999 typo) and every shape of
    row: counters null or not, each source, estimated or not."""
    moments = [
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2025, 10, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2025, 11, 1, 0, 0, tzinfo=UTC),  # the first instant of a month
        datetime(2025, 11, 15, 12, 30, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        datetime(2026, 2, 28, 23, 0, tzinfo=UTC),
    ]
    rows = []
    for k, key in enumerate(keys):
        for i, at in enumerate(moments):
            views = 10_000 * (k + 1) + i
            rows.append(
                (
                    key,
                    at,
                    views,
                    views // 10 if i % 2 else None,
                    views * 3 if i == 3 else None,
                    i,
                    None if k == 1 else i * 2,
                    i * 3,
                    1 + (i % 4),
                    i == 4,
                )
            )
    return rows


async def _all_samples(conn: asyncpg.Connection) -> set[tuple[Any, ...]]:
    rows = await conn.fetch(f"SELECT {COLUMNS} FROM ingest.samples")
    return {tuple(r) for r in rows}


async def test_migration_moves_existing_samples_into_months(
    scratch: tuple[Servers, Path],
) -> None:
    servers, upto_0007 = scratch
    settings = settings_for("ingest", servers)
    applied = await migrate(settings, upto_0007)
    assert applied[-1] == "0007_runs"
    admin = await asyncpg.connect(servers.database_url)
    try:
        keys = [
            await admin.fetchval(
                "INSERT INTO ingest.tracked_posts (id, org_id, booking_id, campaign_id, "
                "platform, url, registered_at, updated_at) "
                "VALUES ($1, $2, $2, $2, 'tiktok', $3, now(), now()) RETURNING key",
                uuid.uuid4(),
                uuid.uuid4(),
                f"https://example.test/{n}",
            )
            for n in range(3)
        ]
        rows = _old_rows(keys)
        await admin.executemany(
            f"INSERT INTO ingest.samples ({COLUMNS}) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            rows,
        )
        before = await _all_samples(admin)
        assert len(before) == len(rows) == 18

        # 0008 runs over the rows already there (later migrations follow it).
        applied = await migrate(settings, migrations_dir("ingest"))
        assert applied[0] == "0008_sample_months"

        # Every row is there, unchanged, and nothing else.
        assert await _all_samples(admin) == before
        # The old table is gone; ingest.samples is the partitioned one.
        assert await admin.fetchval("SELECT to_regclass('ingest.samples_unpartitioned')") is None
        assert (
            await admin.fetchval(
                "SELECT relkind::text FROM pg_class WHERE oid = 'ingest.samples'::regclass"
            )
            == "p"
        )
        # Each sample sits in its UTC month's partition; the 1999 typo in the default.
        where = await admin.fetch(
            "SELECT tableoid::regclass::text AS part, observed_at FROM ingest.samples"
        )
        for row in where:
            at = row["observed_at"].astimezone(UTC)
            expected = f"ingest.samples_{at:%Y_%m}" if at.year >= 2000 else "ingest.samples_default"
            assert row["part"] == expected, row
        this_month = f"ingest.samples_{utcnow():%Y_%m}"
        assert await admin.fetchval("SELECT to_regclass($1)::text", this_month) == this_month
        # Partitions belong to ingest's role, like the table.
        owners = await admin.fetch(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'ingest.samples'::regclass"
        )
        assert [o["owner"] for o in owners] == [settings.role]

        # The duplicate rule still holds, in a month partition and in the default: ingest's own
        # insert stores nothing twice, and a plain second insert is refused.
        ingest = await asyncpg.connect(settings.dsn)
        try:
            again = [rows[1], rows[3], rows[0]]
            stored = await ingest.fetch(INSERT_SAMPLES, *_columns(again))
            assert stored == []
            for row in (rows[3], rows[0]):
                with pytest.raises(asyncpg.UniqueViolationError):
                    await ingest.execute(
                        f"INSERT INTO ingest.samples ({COLUMNS}) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        *row,
                    )
            # A new moment of a known post is stored, once.
            fresh = [(keys[0], datetime(2025, 11, 15, 12, 31, tzinfo=UTC), *rows[3][2:])]
            assert len(await ingest.fetch(INSERT_SAMPLES, *_columns(fresh))) == 1
            assert await ingest.fetch(INSERT_SAMPLES, *_columns(fresh)) == []
        finally:
            await ingest.close()
        assert len(await _all_samples(admin)) == len(rows) + 1
    finally:
        await admin.close()


def _columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    """insert_samples.sql's arrays: post_key, observed_at, views, likes, comments, shares,
    saves, reach, source, estimated (COLUMNS order is post_key, observed_at, views, likes,
    reach, comments, shares, saves, source, estimated)."""
    order = (0, 1, 2, 3, 5, 6, 7, 4, 8, 9)
    return [[row[i] for row in rows] for i in order]


# --- a month moving out of the default, under reads and writes ------------------------------

BACKFILLED_MONTHS = months_from(date(2001, 1, 1), 60)
PER_MONTH = 20


def _match(post: TrackedPost, at: datetime, views: int) -> Match:
    candidate = Candidate(
        index=0,
        post_id=post.id,
        platform=post.platform,
        platform_post_id=None,
        url=None,
        observed_at=at,
        metrics=Metrics(views=views),
        estimated=False,
        posted_at=None,
        caption=None,
        thumb_url=None,
    )
    return Match(candidate, post)


async def test_a_month_moving_out_of_the_default_hides_no_sample_and_refuses_no_batch(
    scratch: tuple[Servers, Path],
) -> None:
    """While ingest's pass moves sixty backfilled months out of samples_default, one at a
    time: every page of a post's history holds all its samples, and every batch of the
    moving months is stored (new samples once, samples sent again as duplicates).

    Both failed before: a read-committed page now and then missed the month in flight (two to
    five pages of a run here), and a batch routed to the default just before its month moved
    was refused with a partition-constraint error (in every run)."""
    servers, _ = scratch
    settings = settings_for("ingest", servers)
    await migrate(settings, migrations_dir("ingest"))
    org_id = uuid.uuid4()
    admin = await asyncpg.connect(servers.database_url)
    pool = await asyncpg.create_pool(settings.dsn, min_size=6, max_size=6)
    try:
        posts: list[TrackedPost] = []
        for n in range(2):
            key, post_id = await admin.fetchrow(
                "INSERT INTO ingest.tracked_posts (id, org_id, booking_id, campaign_id, "
                "platform, url, registered_at, updated_at) "
                "VALUES ($1, $2, $2, $2, 'tiktok', $3, now(), now()) RETURNING key, id",
                uuid.uuid4(),
                org_id,
                f"https://example.test/{n}",
            )
            posts.append(
                TrackedPost(
                    key, post_id, org_id, org_id, "tiktok", None, "", False, None, None, None
                )
            )
        read, written = posts
        # The read post's backfill: PER_MONTH samples in each month, all in the default.
        moments = [
            datetime(m.year, m.month, 1 + i, 12, tzinfo=UTC)
            for m in BACKFILLED_MONTHS
            for i in range(PER_MONTH)
        ]
        await admin.executemany(
            "INSERT INTO ingest.samples (post_key, observed_at, views, source) "
            "VALUES ($1, $2, $3, 1)",
            [(read.key, at, i) for i, at in enumerate(moments)],
        )
        assert await admin.fetchval("SELECT count(*) FROM ingest.samples_default") == len(moments)

        moving = asyncio.Event()
        short_pages: list[int] = []
        stored: list[tuple[int, datetime]] = []

        async def move() -> None:
            try:
                made = await keep_months(pool, today=utcnow().date(), ahead=0)
                assert made[: len(BACKFILLED_MONTHS)] == BACKFILLED_MONTHS
            finally:
                moving.set()

        async def page_through() -> int:
            pages = 0
            async with pool.acquire() as conn:
                while not moving.is_set():
                    rows = await repository.sample_history(
                        conn, org_id=org_id, post_id=read.id, after=EPOCH, limit=10_000
                    )
                    pages += 1
                    if len(rows) != len(moments):
                        short_pages.append(len(rows))
            return pages

        async def write(lane: int) -> int:
            batches = 0
            async with pool.acquire() as conn:
                while not moving.is_set():
                    month = BACKFILLED_MONTHS[(batches * 7 + lane * 31) % len(BACKFILLED_MONTHS)]
                    # Unique per lane and batch: the month cycles with the batch's second.
                    hour, minute, second = (
                        lane * 12 + batches // 3600 % 12,
                        batches // 60 % 60,
                        batches % 60,
                    )
                    at = datetime(month.year, month.month, 25, hour, minute, second, tzinfo=UTC)
                    fresh = [_match(written, at, batches)]
                    again = [_match(read, moments[(batches * 13) % len(moments)], 0)]
                    async with conn.transaction():
                        new = await repository.insert_samples(
                            conn, matches=fresh + again, source="http"
                        )
                    assert new == {(written.key, at)}  # the new one stored, the other a duplicate
                    stored.append((written.key, at))
                    batches += 1
            return batches

        _, pages, *batches = await asyncio.gather(move(), page_through(), write(0), write(1))
        # They did run alongside the move.
        assert pages > 20, pages
        assert min(batches) > 20, batches
        assert short_pages == []
        rows = await admin.fetch(
            "SELECT post_key, observed_at, tableoid::regclass::text AS part FROM ingest.samples"
        )
        assert sorted((r["post_key"], r["observed_at"]) for r in rows) == sorted(
            [(read.key, at) for at in moments] + stored
        )
        assert {r["part"] for r in rows} == {f"ingest.samples_{m:%Y_%m}" for m in BACKFILLED_MONTHS}
    finally:
        await pool.close()
        await admin.close()


# --- the running service: months ahead, backfills ------------------------------------------


@pytest.fixture(scope="module")
def ingest(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    env = {
        **service_env,
        "PULSE_INGEST_SAMPLE_MONTHS_AHEAD": str(AHEAD),
        "PULSE_INGEST_SAMPLE_MONTHS_INTERVAL_S": "0.5",
    }
    proc = ServiceProcess("ingest", env, LOGS)
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()


async def _until(check: Any, message: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.1)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_ingest_makes_months_ahead_and_moves_backfills_into_their_month(
    servers: Servers, ingest: ServiceProcess, admin_db: asyncpg.Connection
) -> None:
    # The months ahead exist without anyone asking: this one and AHEAD more.
    async def months_made() -> bool:
        wanted = months_from(utcnow().date(), AHEAD + 1)
        names = [f"ingest.samples_{m:%Y_%m}" for m in wanted]
        found = await admin_db.fetch(
            "SELECT to_regclass(n)::text AS n FROM unnest($1::text[]) n", names
        )
        return [r["n"] for r in found] == names

    await _until(months_made, "ingest did not make the months ahead")

    # A tenant whose posts ingest learns from catalog events.
    scenario = build_scenario(utcnow(), seed=17, raw_fixture=False)
    async with Bus(servers.amqp_url) as bus:
        for event in scenario.events:
            await bus.publish_event(scenario.org_id, event)

    async def learned() -> bool:
        n = await admin_db.fetchval(
            "SELECT count(*) FROM ingest.tracked_posts WHERE org_id = $1", scenario.org_id
        )
        return bool(n == len(scenario.posts))

    await _until(learned, "ingest never learned the catalog")
    post = scenario.posts[0]
    # A backfill: numbers from months long gone, which have no partition yet.
    backfill = [
        datetime(2023, 2, 14, 9, 0, tzinfo=UTC),
        datetime(2023, 2, 28, 23, 59, 59, tzinfo=UTC),
        datetime(2023, 3, 1, 0, 0, tzinfo=UTC),
    ]
    for at in backfill:
        part = f"ingest.samples_{at:%Y_%m}"
        assert await admin_db.fetchval("SELECT to_regclass($1)", part) is None
    items = [
        {"post_id": str(post["id"]), "observed_at": _iso(at), "metrics": {"views": 100 + i}}
        for i, at in enumerate(backfill)
    ]
    headers = {"Authorization": f"Bearer {scenario.token}"}
    async with httpx.AsyncClient(base_url=ingest.url, timeout=30) as http:
        response = await http.post("/api/ingest/posts", json={"items": items}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == len(backfill)

        async def moved() -> list[asyncpg.Record] | None:
            # Repeatable read, as sample_history reads: a read-committed query can miss the
            # month whose rows are moving (pulse_ingest.repository.items).
            async with admin_db.transaction(isolation="repeatable_read", readonly=True):
                rows = await admin_db.fetch(
                    "SELECT s.tableoid::regclass::text AS part, s.observed_at, s.views "
                    "FROM ingest.samples s JOIN ingest.tracked_posts p ON p.key = s.post_key "
                    "WHERE p.id = $1 ORDER BY s.observed_at",
                    post["id"],
                )
            return rows if all(r["part"] != "ingest.samples_default" for r in rows) else None

        rows = await _until(moved, "the backfill stayed in the default partition")
        assert [(r["observed_at"], r["views"]) for r in rows] == [
            (at, 100 + i) for i, at in enumerate(backfill)
        ]
        assert [r["part"] for r in rows] == [
            "ingest.samples_2023_02",
            "ingest.samples_2023_02",
            "ingest.samples_2023_03",
        ]
        # Sent again after the move: duplicates, nothing stored twice.
        again = await http.post("/api/ingest/posts", json={"items": items}, headers=headers)
        assert again.json() | {"rejected": []} == {
            "accepted": 0,
            "duplicates": len(backfill),
            "rejected": [],
        }
        # And readable where the dashboard's history comes from.
        history = await http.get(
            f"/internal/orgs/{scenario.org_id}/posts/{post['id']}/samples",
            headers={"X-Pulse-Service-Token": SERVICE_TOKEN},
        )
    assert history.status_code == 200, history.text
    assert [s["views"] for s in history.json()["items"]][:3] == [100, 101, 102]
    assert await admin_db.fetchval("SELECT count(*) FROM ingest.samples_default") == 0
