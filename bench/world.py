"""What a run stands on: its own database and vhost, the services running on them, and the
seeded agencies — built fresh (smoke), or copied from the cached template (full run)."""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from . import infra
from .api import migrate
from .catalog import Agency, Campaign, VideoIds, build_campaigns, campaign_dates, new_agency
from .config import Sizes
from .seed import copy_samples, publish_closes, wait_numbers, wait_posts_known
from .system import System

META_TABLE = "public.bench_seed"  # the bench's own note in its own database


@dataclass
class World:
    system: System
    cluster_url: str  # administrator URL of the cluster (creates and drops databases)
    database_url: str  # administrator URL of the run's database
    vhost: str
    sizes: Sizes
    reads: Agency  # P3/P4/P5/P7: the 10M-sample set
    ingest: Agency  # P1/P2/P6: campaigns without samples, fed during the run
    probe: Campaign  # P2: one post in the ingest agency, sampled one at a time
    tracking: Agency  # P9: an ordinary organization (pulled), made fresh for each run
    expected_views: dict[str, int]  # seeded views per read campaign
    seed: dict[str, Any] = field(default_factory=dict)
    ids: VideoIds = field(default_factory=lambda: VideoIds(random.Random()))
    own_database: bool = True
    own_vhost: bool = True

    async def admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.database_url)


def _vhost_name(kind: str) -> str:
    return f"pulse-bench-{kind}-{uuid.uuid4().hex[:8]}"


async def seed_agencies(env: dict[str, str]) -> tuple[Agency, Agency]:
    """The two seeded organizations, both flagged test so the provider never pulls their
    posts: their samples come only from the seeder and from P1/P2's webhook calls. (The one
    difference this makes elsewhere: the alerter skips stale_data for test organizations.)"""
    reads, ingest = await asyncio.gather(
        new_agency(env, "Reads", test=True), new_agency(env, "Ingest", test=True)
    )
    return reads, ingest


async def seed_catalog(
    system: System, database_url: str, sizes: Sizes, agencies: tuple[Agency, Agency]
) -> dict[str, Any]:
    """The catalogs of both agencies through the API, until every service has consumed them;
    returns (and writes to META_TABLE) the catalog checkpoint a failed seed resumes from."""
    started = time.monotonic()
    gateway = system.url("gateway")
    ids = VideoIds(random.Random())
    reads, ingest = agencies
    today = datetime.now(UTC).date()
    history_days = math.ceil(sizes.samples_per_post / 24)
    start, end = campaign_dates(today, history_days)
    load_start, load_end = today - timedelta(days=7), today + timedelta(days=60)
    gate = sizes.seed_concurrency
    # The three catalogs go in together: the gateway and the consumers overlap their work.
    _, _, (probe,) = await asyncio.gather(
        build_campaigns(
            reads,
            gateway,
            campaigns=sizes.read_campaigns,
            bookings=sizes.read_bookings,
            posts_per_booking=sizes.read_posts_per_booking,
            start=start,
            end=end,
            name="Reads",
            ids=ids,
            concurrency=gate,
        ),
        build_campaigns(
            ingest,
            gateway,
            campaigns=sizes.load_campaigns,
            bookings=sizes.load_bookings,
            posts_per_booking=sizes.load_posts_per_booking,
            start=load_start,
            end=load_end,
            name="Ingest",
            ids=ids,
            concurrency=gate,
        ),
        build_campaigns(
            ingest,
            gateway,
            campaigns=1,
            bookings=1,
            posts_per_booking=1,
            start=load_start,
            end=load_end,
            name="Probe",
            ids=ids,
            concurrency=gate,
        ),
    )
    timings = {"catalog_s": time.monotonic() - started}
    _progress(f"catalog made through the API in {timings['catalog_s']:.0f} s")
    await wait_queues_idle(infra.vhost_of(system.amqp_url), timeout=3600)
    timings["catalog_consumed_s"] = time.monotonic() - started
    _progress(f"every service consumed the catalog after {timings['catalog_consumed_s']:.0f} s")
    note = {
        "stage": "catalog",
        "sizes": sizes.as_json(),
        "timings": {k: round(v, 1) for k, v in timings.items()},
        "reads": reads.as_json(),
        "ingest": ingest.as_json(),
        "probe_campaign": probe.id,
    }
    await write_note(database_url, note)
    return note


async def seed_history(system: System, database_url: str, note: dict[str, Any]) -> dict[str, Any]:
    """The read agency's raw samples (COPY) and, through the services, their numbers; returns
    the complete note (stage "seeded")."""
    sizes_json = note["sizes"]
    reads = Agency.from_json(note["reads"])
    ingest = Agency.from_json(note["ingest"])
    timings: dict[str, float] = dict(note["timings"])
    admin = await asyncpg.connect(database_url)
    try:
        keys = await wait_posts_known(admin, reads, timeout=900)
        await wait_posts_known(admin, ingest, timeout=900)
        end_at = datetime.now(UTC) - timedelta(minutes=5)
        history, timings["copy_s"] = await copy_samples(
            database_url, reads, keys, sizes_json["samples_per_post"], end_at
        )
        _progress(f"{history.samples:,} samples copied in {timings['copy_s']:.0f} s")
        step = time.monotonic()
        messages = await publish_closes(system.amqp_url, reads.org_id, history.closes)
        timings["closes_published_s"] = time.monotonic() - step
        _progress(f"{messages} post.pulled messages of daily closes published")
        # Let the consumers work undisturbed, then check every campaign through the gateway.
        step = time.monotonic()
        await wait_queues_idle(infra.vhost_of(system.amqp_url), timeout=3600)
        timings["numbers_s"] = (
            time.monotonic()
            - step
            + await wait_numbers(
                system.url("gateway"), reads, history.views_by_campaign, timeout=1800
            )
        )
        _progress(f"every campaign's numbers visible after {timings['numbers_s']:.0f} s")
        step = time.monotonic()
        await admin.execute("VACUUM (ANALYZE) ingest.samples")
        timings["vacuum_s"] = time.monotonic() - step
    finally:
        await admin.close()
    note = {
        **note,
        "stage": "seeded",
        "seeded_at": datetime.now(UTC).isoformat(),
        "samples": history.samples,
        "closes": len(history.closes),
        "close_messages": messages,
        "timings": {k: round(v, 1) for k, v in timings.items()},
        "expected_views": history.views_by_campaign,
    }
    await write_note(database_url, note)
    return note


async def write_note(database_url: str, note: dict[str, Any]) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (note jsonb NOT NULL)")
        async with conn.transaction():
            await conn.execute(f"DELETE FROM {META_TABLE}")
            await conn.execute(
                f"INSERT INTO {META_TABLE} (note) VALUES ($1::jsonb)", json.dumps(note)
            )
    finally:
        await conn.close()


def _progress(message: str) -> None:
    print(f"bench: seed: {message}", flush=True)


async def wait_queues_idle(vhost: str, timeout: float) -> None:
    """Until every queue of the vhost is empty twice in a row: every consumer caught up."""
    deadline = time.monotonic() + timeout
    quiet = 0
    depths: dict[str, int] | None = {}
    while quiet < 2:
        depths = await infra.queue_depths_async(vhost)
        if depths is None:  # no rabbitmqctl for this broker: the numbers check must do
            return
        working = infra.busy_queues(depths)
        quiet = quiet + 1 if not working else 0
        if time.monotonic() > deadline:
            raise TimeoutError(f"queues still busy: {working}")
        await asyncio.sleep(1)
    dead = {q: n for q, n in (depths or {}).items() if q.endswith(".dlq") and n}
    if dead:
        _progress(f"WARNING: dead-lettered messages: {dead}")


async def read_note(database_url: str) -> dict[str, Any] | None:
    conn = await asyncpg.connect(database_url)
    try:
        exists = await conn.fetchval("SELECT to_regclass($1)", META_TABLE)
        if not exists:
            return None
        raw = await conn.fetchval(f"SELECT note FROM {META_TABLE}")
        note: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else raw
        return note
    finally:
        await conn.close()


async def build_template(cluster_url: str, amqp_url: str, sizes: Sizes, log_dir: Path) -> None:
    """Seed the full set into `<template>_building`, then rename it to the template.

    The catalog (minutes of API calls) is checkpointed: when a build fails after it (a
    restarted server, a timeout), the building database is kept and the next run resumes
    with the samples, as long as its fingerprint still matches and no sample was written."""
    building = f"{infra.TEMPLATE}_building"
    building_url = infra.with_database(cluster_url, building)
    wanted = infra.fingerprint(sizes.seed_json())
    checkpoint = None
    if await infra.database_exists(cluster_url, building):
        found = await read_note(building_url)
        if found and found.get("fingerprint") == wanted and found.get("stage") == "catalog":
            conn = await asyncpg.connect(building_url)
            try:
                if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM ingest.samples)"):
                    checkpoint = found
            finally:
                await conn.close()
    if checkpoint is None:
        await infra.drop_database(cluster_url, building)
        await infra.create_database(cluster_url, building)
    vhost = _vhost_name("seed")
    system = System(
        database_url=building_url, amqp_url=infra.create_vhost(amqp_url, vhost), log_dir=log_dir
    )
    try:
        await asyncio.to_thread(migrate, system.base_env())
        if checkpoint is None:
            _, agencies = await asyncio.gather(system.start(), seed_agencies(system.cli_env()))
            _progress(f"seeding the template {infra.TEMPLATE} (minutes; cached afterwards)")
            checkpoint = await seed_catalog(system, building_url, sizes, agencies)
            checkpoint["fingerprint"] = wanted
            await write_note(building_url, checkpoint)
        else:
            await system.start()
            _progress(f"resuming the template {infra.TEMPLATE} after its catalog")
        note = await seed_history(system, building_url, checkpoint)
        note["fingerprint"] = wanted
        await write_note(building_url, note)
    finally:
        system.stop()
        infra.delete_vhost(vhost)
    await infra.drop_database(cluster_url, infra.TEMPLATE)
    await infra.rename_database(cluster_url, building, infra.TEMPLATE)


async def template_ready(cluster_url: str, sizes: Sizes, max_age_days: int = 30) -> bool:
    """The cached template exists, was seeded by this seeder for these migrations and sizes,
    and is recent enough that its campaigns are still live."""
    if not await infra.database_exists(cluster_url, infra.TEMPLATE):
        return False
    note = await read_note(infra.with_database(cluster_url, infra.TEMPLATE))
    if note is None:
        return False
    wanted = infra.fingerprint(sizes.seed_json())
    if note.get("stage") != "seeded" or note.get("fingerprint") != wanted:
        return False
    age = datetime.now(UTC) - datetime.fromisoformat(note["seeded_at"])
    return age < timedelta(days=max_age_days)


async def open_world(
    *,
    cluster_url: str,
    amqp_url: str,
    sizes: Sizes,
    smoke: bool,
    log_dir: Path,
    use_database: str | None = None,
    use_amqp: str | None = None,
    reseed: bool = False,
) -> World:
    """Database, vhost, migrations, services and seed for one run.

    Full runs copy the cached template (seeding it first when missing or stale). Smoke runs,
    and runs on a given database, seed their small set in place."""
    own_database = use_database is None
    if own_database:
        name = f"pulse_bench_{uuid.uuid4().hex[:10]}"
        database_url = infra.with_database(cluster_url, name)
    else:
        assert use_database is not None
        database_url = use_database
    own_vhost = use_amqp is None
    vhost = _vhost_name("run") if own_vhost else infra.vhost_of(use_amqp or "")

    if own_database and not smoke:
        lock = await asyncpg.connect(cluster_url)
        try:
            # One seeder at a time; a second run waits, then finds the template ready.
            await lock.execute("SELECT pg_advisory_lock($1)", infra.SEED_LOCK)
            if reseed or not await template_ready(cluster_url, sizes):
                await build_template(cluster_url, amqp_url, sizes, log_dir)
            step = time.monotonic()
            await infra.create_database(cluster_url, name, template=infra.TEMPLATE)
            copied_s = time.monotonic() - step
        finally:
            await lock.close()
    elif own_database:
        await infra.create_database(cluster_url, name)
        copied_s = 0.0
    else:
        copied_s = 0.0

    run_amqp = infra.create_vhost(amqp_url, vhost) if own_vhost else (use_amqp or "")
    system = System(database_url=database_url, amqp_url=run_amqp, log_dir=log_dir)
    try:
        step = time.monotonic()
        await asyncio.to_thread(migrate, system.base_env())
        migrated_s = time.monotonic() - step
        note = await read_note(database_url) if not smoke and own_database else None
        # Organizations need only the database: made while the services start.
        step = time.monotonic()
        _, tracking, agencies = await asyncio.gather(
            system.start(),
            new_agency(system.cli_env(), "Tracking", test=False),
            seed_agencies(system.cli_env()) if note is None else asyncio.sleep(0, None),
        )
        started_s = time.monotonic() - step
        if note is None:
            assert agencies is not None
            catalog = await seed_catalog(system, database_url, sizes, agencies)
            note = await seed_history(system, database_url, catalog)
            note["template"] = None
        else:
            note["template"] = {"name": infra.TEMPLATE, "copied_s": round(copied_s, 1)}
    except BaseException:
        system.stop()
        if own_vhost:
            infra.delete_vhost(vhost)
        if own_database:
            await infra.drop_database(cluster_url, name)
        raise
    ingest = Agency.from_json(note["ingest"])
    probe = next(c for c in ingest.campaigns if c.id == note["probe_campaign"])
    ingest.campaigns.remove(probe)
    note["setup"] = {"migrate_s": round(migrated_s, 1), "start_s": round(started_s, 1)}
    return World(
        system=system,
        cluster_url=cluster_url,
        database_url=database_url,
        vhost=vhost,
        sizes=sizes,
        reads=Agency.from_json(note["reads"]),
        ingest=ingest,
        probe=probe,
        tracking=tracking,
        expected_views=note["expected_views"],
        seed={k: v for k, v in note.items() if k not in ("reads", "ingest", "expected_views")},
        own_database=own_database,
        own_vhost=own_vhost,
    )


async def close_world(world: World, *, keep: bool) -> None:
    world.system.stop()
    if keep:
        print(f"bench: kept database {world.database_url} and vhost {world.vhost}")
        return
    if world.own_vhost:
        infra.delete_vhost(world.vhost)
    if world.own_database:
        name = world.database_url.rsplit("/", 1)[1]
        await infra.drop_database(world.cluster_url, name)
