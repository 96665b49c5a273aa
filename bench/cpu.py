"""Where the CPU went during a scenario: each service process, and the whole machine.

On two cores the first question about any figure is who used the cores. The machine's busy
time minus the services' own is PostgreSQL, RabbitMQ, the load generator and, on a shared
machine, whatever else runs — which is why figures of record need a quiet machine.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .system import Process


def _machine() -> tuple[float, float]:
    """(busy, total) jiffies over all cores, from the first line of /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # up to steal; guest time is already inside user
    return float(total - idle), float(total)


@dataclass
class CpuMeter:
    procs: dict[str, Process]
    _start: dict[str, float] = field(default_factory=dict)
    _machine: tuple[float, float] = (0.0, 0.0)
    _t: float = 0.0

    def start(self) -> CpuMeter:
        self._t = time.monotonic()
        self._machine = _machine()
        self._start = {n: p.cpu_seconds() or 0.0 for n, p in self.procs.items()}
        return self

    def stop(self) -> dict[str, float]:
        """Cores used on average (1.0 = one core busy all the time) since start()."""
        elapsed = max(time.monotonic() - self._t, 1e-9)
        busy0, total0 = self._machine
        busy1, total1 = _machine()
        used = {
            n: round(((p.cpu_seconds() or 0.0) - self._start.get(n, 0.0)) / elapsed, 2)
            for n, p in self.procs.items()
        }
        cores = os.cpu_count() or 1
        used["machine"] = round((busy1 - busy0) / max(total1 - total0, 1e-9) * cores, 2)
        return used
