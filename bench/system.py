"""All five services and the fake ScrapeCreators server as OS processes, on free ports.

Each service gets only the documented settings (README "Configuration"): the cluster URL, the
run's vhost, a service token, its port, and the gateway's peer URLs. Nothing else about a
service's inside is assumed, so the processes are the ones an operator would run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from .infra import ROOT

SERVICES = ("ingest", "aggregator", "alerter", "share", "gateway")
# The share service limits requests per address and per link (design/security.md). Every
# bench client comes from 127.0.0.1, so P5 raises the buckets through the service's own
# settings instead of measuring 429s; the limiter itself still runs on every request.
SHARE_RATE_LIMITS = {
    "PULSE_SHARE_RATE_ADDRESS_BURST": "1000000",
    "PULSE_SHARE_RATE_ADDRESS_PER_S": "1000000",
    "PULSE_SHARE_RATE_LINK_BURST": "1000000",
    "PULSE_SHARE_RATE_LINK_PER_S": "1000000",
}
FAKE_PROVIDER_KEY = "bench-fake-provider-key"


def free_port() -> int:
    """An ephemeral port (never the fixed 8000–8010 ports `make dev` uses)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pid_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, from /proc/<pid>/stat (fields 14, 15)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def clean_environ() -> dict[str, str]:
    """The caller's environment without any PULSE_* setting: only the bench's own apply."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}


@dataclass
class Process:
    """One OS process with its log file; `started_at` is when it was spawned (P8)."""

    name: str
    argv: list[str]
    env: Mapping[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}-{self.port}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def spawn(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            self.argv, env=dict(self.env), stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT
        )

    async def wait_answering(self, path: str, timeout: float, poll: float = 0.02) -> float:
        """Seconds from spawn until `path` answers 200; polls every 20 ms (P8's resolution)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
                try:
                    if (await client.get(path)).status_code == 200:
                        return time.monotonic() - self.started_at
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(poll)
        raise TimeoutError(f"{self.name} not ready in {timeout:.0f}s:\n{self.tail()}")

    def rss_bytes(self) -> int | None:
        """Resident set size from /proc (no psutil needed on Linux)."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except (OSError, AssertionError):
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return None

    def cpu_seconds(self) -> float | None:
        return pid_cpu_seconds(self.pid) if self.process is not None else None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown code runs (make chaos)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class System:
    """The whole deployment for one run: URLs, environments, processes."""

    database_url: str  # administrator URL of the run's database (services derive their roles)
    amqp_url: str  # the run's own vhost
    log_dir: Path
    service_token: str = field(default_factory=lambda: secrets.token_hex(16))
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, Process] = field(default_factory=dict)
    provider: Process | None = None
    ready_s: dict[str, float] = field(default_factory=dict)  # spawn → /ready 200, last start

    def __post_init__(self) -> None:
        for name in (*SERVICES, "provider"):
            self.ports.setdefault(name, free_port())

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def base_env(self) -> dict[str, str]:
        return {
            **clean_environ(),
            "PULSE_ENV": "test",  # dev secrets (JWT key) allowed, production checks off
            "PULSE_DATABASE_URL": self.database_url,
            "PULSE_AMQP_URL": self.amqp_url,
            "PULSE_SERVICE_TOKEN": self.service_token,
            "PULSE_LOG_LEVEL": "WARNING",
            # The API rate limits stay on (their cost is part of every read measured) but are
            # lifted far above the load's rate, in keys of this run's own.
            "PULSE_REDIS_KEY_PREFIX": f"pulse-bench-{self.service_token[:8]}:",
            "PULSE_GATEWAY_API_REQUESTS_PER_MINUTE": "100000000",
            "PULSE_INGEST_TOKEN_REQUESTS_PER_MINUTE": "100000000",
            # Every sign-in comes from 127.0.0.1. The bench never fails one, but run by the
            # tests (bench smoke, chaos) it shares the database with tests that fail sign-ins
            # from 127.0.0.1 on purpose, and their failures counted against its own sign-ins
            # (429 once 20 were within 15 minutes). The per-account limit stays.
            "PULSE_GATEWAY_LOGIN_FAILURES_PER_ADDRESS": "100000000",
        }

    def env_for(self, name: str) -> dict[str, str]:
        env = self.base_env()
        if name == "ingest":
            env["PULSE_INGEST_SCRAPECREATORS_BASE_URL"] = self.url("provider")
            env["PULSE_INGEST_SCRAPECREATORS_API_KEY"] = FAKE_PROVIDER_KEY
        elif name == "share":
            env["PULSE_SHARE_PUBLIC_URL"] = self.url("share")
            env.update(SHARE_RATE_LIMITS)
        elif name == "gateway":
            env.update(
                {
                    "PULSE_GATEWAY_PUBLIC_URL": self.url("gateway"),
                    "PULSE_GATEWAY_AGGREGATOR_URL": self.url("aggregator"),
                    "PULSE_GATEWAY_ALERTER_URL": self.url("alerter"),
                    "PULSE_GATEWAY_INGEST_URL": self.url("ingest"),
                    "PULSE_GATEWAY_SHARE_URL": self.url("share"),
                    "PULSE_GATEWAY_SHARE_PUBLIC_URL": self.url("share"),
                    "PULSE_GATEWAY_MAIL_DIR": str(self.log_dir / "mail"),
                }
            )
        if name in SERVICES:
            env[f"PULSE_{name.upper()}_PORT"] = str(self.ports[name])
        return env

    def service_process(self, name: str, port: int | None = None) -> Process:
        """A process for `name`; another `port` gives a second instance (P8)."""
        env = self.env_for(name)
        chosen = port or self.ports[name]
        env[f"PULSE_{name.upper()}_PORT"] = str(chosen)
        argv = [sys.executable, "-m", f"pulse_{name}", "serve"]
        return Process(name, argv, env, self.log_dir, port=chosen)

    @contextlib.asynccontextmanager
    async def extra_replica(self, name: str) -> AsyncIterator[Process]:
        """A second instance of `name` on a port of its own, ready, for the span of a block:
        what one more replica behind a balancer does to a read scenario."""
        proc = self.service_process(name, port=free_port())
        proc.spawn()
        try:
            await proc.wait_answering("/ready", 120)
            yield proc
        finally:
            proc.stop()

    async def start(self) -> None:
        """The fake provider, then every service at once (each waits for its own readiness)."""
        argv = [sys.executable, "-m", "fake_scrapecreators", "--port", str(self.ports["provider"])]
        self.provider = Process(
            "fake-scrapecreators", argv, clean_environ(), self.log_dir, port=self.ports["provider"]
        )
        self.provider.spawn()
        await self.provider.wait_answering("/_control/stats", timeout=60)
        for name in SERVICES:
            self.procs[name] = self.service_process(name)
            self.procs[name].spawn()
        found = await asyncio.gather(
            *(p.wait_answering("/ready", 120) for p in self.procs.values())
        )
        self.ready_s = dict(zip(self.procs, found, strict=True))

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop()
        self.procs.clear()
        if self.provider is not None:
            self.provider.stop()
            self.provider = None

    def cli_env(self) -> dict[str, str]:
        """For `pulse admin …` (the gateway's CLI): the gateway's settings."""
        return self.env_for("gateway")
