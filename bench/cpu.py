"""Where the CPU went during a scenario: each service process, PostgreSQL's work for the run's
database (its backends, counted as they open, and the server's own processes), the RabbitMQ
server, and the whole machine.

On two cores the first question about any figure is who used the cores. The machine's busy
time minus all of the above is the load generator and, on a shared machine, whatever else
runs — which is why figures of record need a quiet machine. RabbitMQ's figure is the whole
server (every vhost), so on a shared machine it includes other people's traffic.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

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


def postgres_pids(database: str) -> list[int]:
    """The PostgreSQL server's processes that work for the run: the backends of its database,
    found by their process title ("postgres: 15/main: <user> <database> <address> <state>"),
    and the server's own (postmaster, WAL writer, checkpointer, background writer, autovacuum),
    which every write pays for. Backends of other databases are left out."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if title.startswith("postgres: "):
            words = title.split(": ", 2)[-1].split()
            is_backend = len(words) >= 3 and ("(" in words[2] or words[2] == "[local]")
            if is_backend and words[1] != database:
                continue
        elif not (title.split(" ", 1)[0].endswith("/bin/postgres")):
            continue
        found.append(int(cmdline.parent.name))
    return found


@dataclass
class CpuMeter:
    procs: dict[str, Process]
    # Process groups found anew at every reading (e.g. the PostgreSQL backends): a pool opens
    # connections under load, and a backend started after the meter counts from zero. Taking
    # the backends once at the start missed those: P1 alone showed PostgreSQL at ~27 ms per
    # 1,000 samples where `ps` saw ~80.
    groups: dict[str, Callable[[], list[int]]] = field(default_factory=dict)
    _start: dict[str, float] = field(default_factory=dict)
    _machine: tuple[float, float] = (0.0, 0.0)
    _t: float = 0.0

    def _now(self) -> dict[str, float]:
        found = {n: p.cpu_seconds() or 0.0 for n, p in self.procs.items()}
        for name, pids in self.groups.items():
            found.update({f"{name}:{pid}": pid_cpu_seconds(pid) or 0.0 for pid in pids()})
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
            # A process started meanwhile counts from zero. One that exited meanwhile is not
            # read now at all: what it spent is lost (a pool keeps its backends open).
            used[name] = used.get(name, 0.0) + max(0.0, seconds - self._start.get(key, 0.0))
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
    """A started meter over the services, PostgreSQL's work for the run's database and
    RabbitMQ."""
    database = urlsplit(database_url).path.lstrip("/")
    groups: dict[str, Callable[[], list[int]]] = {
        "postgres": functools.partial(postgres_pids, database),
        "rabbitmq": rabbitmq_pids,
    }
    return CpuMeter(procs, groups).start()
