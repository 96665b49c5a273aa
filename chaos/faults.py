"""The faults: kill -9 of each service at random moments (restarted at once, as a supervisor
would), RabbitMQ and PostgreSQL faults, and after each one the time until a user sees fresh
numbers again.

Freshness after a fault: a probe sample with higher views than any before is sent to the probe
campaign's one post (retried until acknowledged) the moment the fault is injected; the fault's
time back to fresh numbers is the time until the gateway shows that campaign with those views.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench import infra
from bench.api import ApiFailure, login, staff_client
from bench.system import Process, System

from .load import Item, Ledger, deliver_http, item_for
from .plan import Plan

READY_TIMEOUT_S = 240.0
_ONE_MS = timedelta(milliseconds=1)
FRESH_TIMEOUT_S = 300.0
PG_CLUSTER = ("15", "main")


@dataclass
class Fault:
    kind: str  # "kill ingest", "broker restart", "database connections", …
    at_s: float  # seconds into the run
    back_s: float | None = None  # until the service answers /ready again (or the server is back)
    fresh_s: float | None = None  # until the gateway shows a sample sent at the fault
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(self).items()}


class Freshness:
    """Probe samples through ingest, read back through the gateway as a user reads them."""

    def __init__(
        self, system: System, token: str, email: str, campaign_id: str, post_id: str
    ) -> None:
        self._system = system
        self._token = token
        self._email = email
        self._campaign_id = campaign_id
        self._post_id = post_id
        self._views = 1000
        self._last_at = datetime.now(UTC)
        self._bearer: str | None = None
        self._signing_in = asyncio.Lock()

    def _next_item(self) -> tuple[Item, int]:
        self._views += 1
        now = datetime.now(UTC)
        # Strictly later than the previous probe, at the millisecond the item is written with.
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._last_at = max(now, self._last_at + _ONE_MS)
        return item_for(self._post_id, self._last_at, self._views), self._views

    async def measure(self, started: float, ledger: Ledger) -> float | None:
        """Seconds from `started` (monotonic) until the probe campaign shows a new sample."""
        item, views = self._next_item()
        deadline = started + FRESH_TIMEOUT_S
        async with httpx.AsyncClient(base_url=self._system.url("ingest"), timeout=10) as client:
            if not await deliver_http(client, self._token, [item], ledger):
                return None
        async with staff_client(self._system.url("gateway"), timeout=5) as api:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError, ValueError, ApiFailure):
                    # (the gateway may be the service just killed, or the one behind)
                    if self._shown_views(await self._get(api)) >= views:
                        return time.monotonic() - started
                await asyncio.sleep(0.2)
        return None

    async def _get(self, api: httpx.AsyncClient) -> httpx.Response:
        # One sign-in shared by every measurement (the gateway limits sign-ins per account).
        if self._bearer is None:
            async with self._signing_in:
                if self._bearer is None:
                    self._bearer = await login(api, self._email)
        api.headers["Authorization"] = f"Bearer {self._bearer}"
        response = await api.get(f"/api/campaigns/{self._campaign_id}")
        if response.status_code == 401:
            self._bearer = None
        return response

    @staticmethod
    def _shown_views(response: httpx.Response) -> int:
        if response.status_code != 200:
            return -1
        return int((response.json().get("kpis") or {}).get("actual_views") or 0)


@dataclass
class Chaos:
    system: System
    plan: Plan
    freshness: Freshness
    ledger: Ledger
    vhost: str
    database: str  # the run's database name (connection faults only touch it)
    cluster_url: str
    rng: random.Random
    started: float = field(default_factory=time.monotonic)
    faults: list[Fault] = field(default_factory=list)
    restarts: dict[str, asyncio.Lock] = field(default_factory=dict)  # one restart at a time
    measuring: list[asyncio.Task[None]] = field(default_factory=list)

    def _now(self) -> float:
        return time.monotonic() - self.started

    def _lock(self, name: str) -> asyncio.Lock:
        return self.restarts.setdefault(name, asyncio.Lock())

    def _fresh_after(self, fault: Fault, at: float) -> None:
        async def measure() -> None:
            fault.fresh_s = await self.freshness.measure(at, self.ledger)

        self.measuring.append(asyncio.create_task(measure()))

    async def killer(self, name: str) -> None:
        """kill -9 `name` this plan's number of times, restarting it each time at once."""
        proc = self.system.procs[name]
        for _ in range(self.plan.kills_per_service):
            await asyncio.sleep(self.rng.uniform(*self.plan.kill_gap_s))
            async with self._lock(name):  # never while the watchdog restarts it
                at = time.monotonic()
                fault = Fault(f"kill {name}", self._now())
                self.faults.append(fault)
                proc.kill()
                self._fresh_after(fault, at)
                await self._restart(proc, fault, at)

    async def watchdog(self, stop: asyncio.Event) -> None:
        """A service that exits on its own (not killed by us) is a finding: recorded, restarted."""
        while not stop.is_set():
            for name, proc in self.system.procs.items():
                lock = self._lock(name)
                if lock.locked() or proc.process is None or proc.process.poll() is None:
                    continue
                async with lock:
                    note = f"exit {proc.process.poll()}: {proc.tail(5)}"
                    fault = Fault(f"exited {name}", self._now(), note=note)
                    self.faults.append(fault)
                    await self._restart(proc, fault, time.monotonic())
            await asyncio.sleep(0.5)

    async def _restart(self, proc: Process, fault: Fault, at: float) -> None:
        """Start it again until it answers /ready (a start can fail while PostgreSQL or
        RabbitMQ is itself restarting: that is noted, and it is started once more)."""
        for attempt in range(1, 6):
            proc.spawn()
            try:
                await proc.wait_answering("/ready", READY_TIMEOUT_S, poll=0.1)
            except (RuntimeError, TimeoutError) as exc:
                fault.note += f"start {attempt} failed: {str(exc)[-300:]}\n"
                proc.kill()
                await asyncio.sleep(2)
                continue
            fault.back_s = time.monotonic() - at
            return
        raise RuntimeError(f"{proc.name} did not start again: {fault.note}")

    async def server_faults(self, expected_s: float) -> None:
        """The broker and database faults, spread evenly over the run's expected length."""
        kinds = ["broker"] * self.plan.broker_faults + ["database"] * self.plan.database_faults
        self.rng.shuffle(kinds)
        gap = expected_s / (len(kinds) + 1)
        for kind in kinds:
            await asyncio.sleep(gap)
            at = time.monotonic()
            fault = Fault(f"{kind} {self.plan.server_scope}", self._now())
            self.faults.append(fault)
            self._fresh_after(fault, at)
            if kind == "broker":
                await asyncio.to_thread(self._broker_fault)
            else:
                await self._database_fault()
            fault.back_s = time.monotonic() - at

    def _broker_fault(self) -> None:
        if self.plan.server_scope == "connections":
            infra.rabbitmqctl("close_all_connections", "--vhost", self.vhost, "make chaos")
            return
        try:
            infra.rabbitmqctl("stop_app", timeout=120)
            time.sleep(2)
        finally:  # whatever happened, the shared broker is started again
            infra.rabbitmqctl("start_app", timeout=300)
            infra.rabbitmqctl("await_startup", timeout=300)

    async def _database_fault(self) -> None:
        if self.plan.server_scope == "connections":
            conn = await asyncpg.connect(self.cluster_url)
            try:
                await conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    self.database,
                )
            finally:
                await conn.close()
            return
        ctl = shutil.which("pg_ctlcluster") or "pg_ctlcluster"
        await asyncio.to_thread(
            subprocess.run,
            [ctl, "--skip-systemctl-redirect", *PG_CLUSTER, "restart"],
            check=True,
            capture_output=True,
            timeout=300,
        )

    async def finish(self) -> None:
        if self.measuring:
            await asyncio.gather(*self.measuring)
