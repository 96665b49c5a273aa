"""The run's report: a table on stdout and a JSON document (bench/results/latest.json)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import asyncpg

from .infra import ROOT, rabbitmqctl
from .stats import Result


def _git(*args: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed program
        ["git", *args],  # noqa: S607 - git from PATH, like every developer's shell
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


def commit() -> dict[str, Any]:
    return {
        "sha": _git("rev-parse", "HEAD"),
        "branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def host() -> dict[str, Any]:
    """Cores, memory and CPU model of this machine, from /proc."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "")
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(total_kb / 2**20, 1),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


async def machine(cluster_url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(cluster_url)
    try:
        postgres = await conn.fetchval("SHOW server_version")
        shared_buffers = await conn.fetchval("SHOW shared_buffers")
        # Off on the CI machines (their conf.d): queue tables (outboxes, inboxes, pending
        # closes) then keep every dead row, which costs PostgreSQL CPU after a heavy load.
        autovacuum = await conn.fetchval("SHOW autovacuum")
    finally:
        await conn.close()
    try:
        rabbitmq = rabbitmqctl("version").strip()
    except RuntimeError:
        rabbitmq = "unknown"
    return {
        **host(),
        "postgresql": postgres,
        "postgresql_shared_buffers": shared_buffers,
        "postgresql_autovacuum": autovacuum,
        "rabbitmq": rabbitmq,
    }


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"


def _figure(r: Result) -> str:
    if r.status == "not_available":
        return "not available"
    if r.status == "error":
        return "ERROR"
    if r.figure is None:
        return f"none ({r.missing} missing)" if r.missing else "–"
    return f"{_num(r.figure)} {r.unit}"


def _met(r: Result) -> str:
    return {True: "yes", False: "NO", None: "–"}[r.met] if r.status == "ok" else "–"


def table(results: list[Result]) -> str:
    header = [
        "#",
        "figure",
        "target",
        "met",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "baseline",
        "ratio",
        "missing",
        "counts",
    ]
    rows = [header]
    for r in results:
        counts = ", ".join(
            f"{k}={_num(v, 0) if isinstance(v, int | float) else v}"
            for k, v in list(r.counts.items())[:4]
        )
        rows.append(
            [
                r.id,
                _figure(r),
                r.target,
                _met(r),
                _num(r.latency.p50) if r.latency else "–",
                _num(r.latency.p95) if r.latency else "–",
                _num(r.latency.p99) if r.latency else "–",
                _num(r.baseline) if r.baseline is not None else "–",
                f"{_num(r.ratio)}×" if r.ratio is not None else "–",
                str(r.missing),
                counts,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"{r.id}: {r.error}" for r in results if r.error]
    return "\n".join(lines + (["", *notes] if notes else []))


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
