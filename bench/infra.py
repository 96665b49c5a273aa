"""The run's own PostgreSQL database and RabbitMQ vhost, and the cached 10M-sample template.

Other engineers use the same servers at the same time, so nothing here touches a database or
vhost the bench did not create: names start with `pulse_bench_` / `pulse-bench-`.

Seeding 10M samples (and the catalog behind them, through the API) costs minutes, so a full
run keeps the seeded database as a template, `pulse_bench_10m`, and copies it for each run
(`CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY`, a file copy). The template is reused only
while its fingerprint matches: the seed version, the sizes, and the text of every service's
migrations. Any change there seeds again; `--reseed` forces it; `--drop-template` removes it.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "pulse_bench_10m"
DEFAULT_CLUSTER = "postgresql://postgres@127.0.0.1:5432/postgres"
# Bump when the seeder's output changes, so cached templates are seeded again.
SEED_VERSION = "1"
# One seeder at a time across concurrent bench runs (a key only the bench uses).
SEED_LOCK = 0x50554C5345  # "PULSE"


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def with_vhost(url: str, vhost: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), "", ""))


def vhost_of(url: str) -> str:
    from urllib.parse import unquote

    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def fingerprint(sizes_json: str) -> str:
    digest = hashlib.sha256(f"seed {SEED_VERSION}\n{sizes_json}\n".encode())
    for path in sorted((ROOT / "services").glob("*/migrations/*.sql")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


async def create_database(admin_url: str, name: str, template: str | None = None) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        if template:
            # FILE_COPY copies the files after a checkpoint: seconds for gigabytes, where the
            # default WAL_LOG strategy would write the whole template through the WAL.
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        else:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    assert name.startswith("pulse_bench_"), name  # never anything the bench did not create
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def database_exists(admin_url: str, name: str) -> bool:
    conn = await asyncpg.connect(admin_url)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def rename_database(admin_url: str, old: str, new: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'ALTER DATABASE "{old}" RENAME TO "{new}"')
    finally:
        await conn.close()


def rabbitmqctl(*args: str, timeout: float = 60) -> str:
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        raise RuntimeError("rabbitmqctl not found: the bench needs it for its own vhost")
    done = subprocess.run(  # noqa: S603 - fixed program, arguments from the bench itself
        [ctl, "-q", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def create_vhost(amqp_url: str, vhost: str) -> str:
    assert vhost.startswith("pulse-bench-"), vhost
    rabbitmqctl("add_vhost", vhost)
    user = urlsplit(amqp_url).username or "guest"
    rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    return with_vhost(amqp_url, vhost)


def delete_vhost(vhost: str) -> None:
    assert vhost.startswith("pulse-bench-"), vhost
    rabbitmqctl("delete_vhost", vhost)


def queue_depths(vhost: str) -> dict[str, int] | None:
    """Messages ready + unacknowledged per queue (rabbitmqctl: the management plugin may be
    off on this broker); None when rabbitmqctl cannot tell (a remote broker)."""
    try:
        out = rabbitmqctl(
            "list_queues", "-p", vhost, "name", "messages_ready", "messages_unacknowledged"
        )
    except RuntimeError:
        return None
    depths: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[1].isdigit():
            depths[parts[0]] = int(parts[1]) + int(parts[2])
    return depths


async def queue_depths_async(vhost: str) -> dict[str, int] | None:
    return await asyncio.to_thread(queue_depths, vhost)


def busy_queues(depths: dict[str, int]) -> dict[str, int]:
    """Queues with work left. Dead-letter queues keep what they hold until someone replays it,
    so they are never "busy"."""
    return {q: n for q, n in depths.items() if n and not q.endswith(".dlq")}


async def wait_drained(vhost: str, timeout: float) -> tuple[float | None, dict[str, int]]:
    """Seconds until no queue of the vhost has work left (None if not within `timeout`, or
    when rabbitmqctl cannot see the broker), and the queues still busy at the end."""
    started = time.monotonic()
    busy: dict[str, int] = {}
    while time.monotonic() - started <= timeout:
        depths = await queue_depths_async(vhost)
        if depths is None:
            return None, {}
        busy = busy_queues(depths)
        if not busy:
            return time.monotonic() - started, {}
        await asyncio.sleep(1)
    return None, busy
