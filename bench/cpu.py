"""Where the CPU went during a scenario: each service process, the PostgreSQL backends of the
run's database, the RabbitMQ server, and the whole machine.

On two cores the first question about any figure is who used the cores. The machine's busy
time minus all of the above is the load generator and, on a shared machine, whatever else
runs — which is why figures of record need a quiet machine. RabbitMQ's figure is the whole
server (every vhost), so on a shared machine it includes other people's traffic.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from .system import Process, pid_cpu_seconds


def _machine() -> tuple[float, float]:
    """(busy, total) jiffies over all cores, from the first line of /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # up to steal; guest time is already inside user
    return float(total - idle), float(total)


def rabbitmq_pids() -> list[int]:
    """The Erlang VM running RabbitMQ (read-only look at /proc: nothing is signalled)."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "beam.smp":
                found.append(int(comm.parent.name))
        except OSError:
            continue
    return found


async def postgres_pids(database_url: str) -> list[int]:
    """The server processes serving the run's database (the services' pools)."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


@dataclass
class CpuMeter:
    procs: dict[str, Process]
    groups: dict[str, list[int]] = field(default_factory=dict)  # e.g. postgres backends
    _start: dict[str, float] = field(default_factory=dict)
    _machine: tuple[float, float] = (0.0, 0.0)
    _t: float = 0.0

    def _now(self) -> dict[str, float]:
        found = {n: p.cpu_seconds() or 0.0 for n, p in self.procs.items()}
        for name, pids in self.groups.items():
            found.update({f"{name}:{pid}": pid_cpu_seconds(pid) or 0.0 for pid in pids})
        return found

    def start(self) -> CpuMeter:
        self._t = time.monotonic()
        self._machine = _machine()
        self._start = self._now()
        return self

    def stop(self) -> dict[str, float]:
        """Cores used on average (1.0 = one core busy all the time) since start()."""
        elapsed = max(time.monotonic() - self._t, 1e-9)
        spent = self.spent()
        cores = {k: round(v / elapsed, 2) for k, v in spent.items()}
        busy0, total0 = self._machine
        busy1, total1 = _machine()
        share = (busy1 - busy0) / max(total1 - total0, 1e-9)
        cores["machine"] = round(share * (os.cpu_count() or 1), 2)
        return cores

    def spent(self) -> dict[str, float]:
        """CPU seconds per service / group since start()."""
        used: dict[str, float] = {}
        for key, seconds in self._now().items():
            name = key.split(":", 1)[0]
            # A backend that exited meanwhile reads 0 now: count nothing rather than less.
            used[name] = used.get(name, 0.0) + max(0.0, seconds - self._start.get(key, seconds))
        return used


def per_unit_ms(spent: dict[str, float], units: int) -> dict[str, float]:
    """CPU milliseconds per unit of work (a request, a sample) for each process group — a
    cost that depends far less on how busy the machine was than any latency does."""
    if not units:
        return {}
    costs = {k: round(v * 1000 / units, 3) for k, v in spent.items()}
    costs["total"] = round(sum(spent.values()) * 1000 / units, 3)
    return costs


async def meter(procs: dict[str, Process], database_url: str) -> CpuMeter:
    """A started meter over the services, their PostgreSQL backends and RabbitMQ."""
    groups = {"postgres": await postgres_pids(database_url), "rabbitmq": rabbitmq_pids()}
    return CpuMeter(procs, groups).start()
