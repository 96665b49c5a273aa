"""Settings for services under test, migrations, and services started as real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from pulse_runtime.service import migrate
from pulse_runtime.settings import ServiceSettings, with_database

from .servers import Servers

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "aggregator", "alerter", "gateway", "share", "reporter")
SERVICE_TOKEN = "test-service-token"


def _settings_class(service: str) -> type[ServiceSettings]:
    module = __import__(f"pulse_{service}.app", fromlist=["app"])
    cls: type[ServiceSettings] = getattr(module, f"{service.capitalize()}Settings")
    return cls


def settings_for(service: str, servers: Servers, **overrides: Any) -> ServiceSettings:
    return _settings_class(service).load(
        environ={},
        env="test",
        database_url=servers.database_url,
        amqp_url=servers.amqp_url,
        redis_url=servers.redis_url,
        redis_key_prefix=servers.redis_key_prefix,
        service_token=SERVICE_TOKEN,
        **overrides,
    )


def migrations_dir(service: str) -> Path:
    return ROOT / "services" / service / "migrations"


async def migrate_all(servers: Servers) -> None:
    for service in SERVICES:
        await migrate(settings_for(service, servers), migrations_dir(service))


# Port 1 (tcpmux) is privileged and never served here: a peer pointed at it is down for sure,
# even while `make dev` runs the real peers on their default ports.
NOBODY_LISTENS = "http://127.0.0.1:1"


def peers_down(env: Mapping[str, str]) -> dict[str, str]:
    """A gateway environment whose peers (aggregator, alerter, ingest, share) all refuse."""
    return {
        **env,
        **{
            f"PULSE_GATEWAY_{peer.upper()}_URL": NOBODY_LISTENS
            for peer in SERVICES
            if peer != "gateway"
        },
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    """One service as an OS process, with its log kept for failure reports."""

    service: str
    env: Mapping[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 45.0) -> None:
        """Start the service and wait until it is ready; one still running is stopped first.

        Never two processes behind one ServiceProcess: a test that restarts a service in its
        `finally` after failing before it stopped it would otherwise leave the first one running
        for the rest of the session, unseen, consuming its queues in the run's vhost (in one CI
        run an aggregator left so answered share's catalog events with its own documents and
        took post.pulled messages from later modules' aggregators: 20 tests failed after one).
        For the same reason one that is not ready in time is stopped before the error: fixtures
        start a service before their `try`, so nothing else would stop it."""
        self.stop()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self._log:
            self._log.close()
        self._log = (self.log_dir / f"{self.service}-{self.port}.log").open("ab")
        env = {
            **self.env,
            f"PULSE_{self.service.upper()}_PORT": str(self.port),
            "PULSE_SERVICE_TOKEN": SERVICE_TOKEN,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"pulse_{self.service}", "serve"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.service} exited: {self.tail()}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.service} not ready in {timeout}s: {self.tail()}")

    def kill(self) -> None:
        """kill -9: no shutdown hooks, exactly like a crashed pod."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log:
            self._log.close()

    def tail(self, lines: int = 40) -> str:
        path = self.log_dir / f"{self.service}-{self.port}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def internal(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"X-Pulse-Service-Token": SERVICE_TOKEN}, timeout=10
        )


@contextmanager
def fake_provider_process(log_dir: Path) -> Iterator[tuple[str, httpx.Client]]:
    """The fake ScrapeCreators server as a real process: its URL and a client for /_control."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"fake-scrapecreators-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "fake_scrapecreators", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        control = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
        try:
            deadline = time.monotonic() + 20
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"fake server exited: {log_path.read_text()}")
                try:
                    if control.get("/_control/stats").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"fake server not ready: {log_path.read_text()}")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}", control
        finally:
            control.close()
            process.kill()
            process.wait(10)


def run_harness(
    module: str, flags: list[str], servers: Servers, report: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """`python -m <module>` (bench, chaos) in this test run's database and vhost, writing its
    JSON report to `report`."""
    admin = with_database(servers.database_url, "postgres")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            module,
            *flags,
            "--pg-url",
            admin,
            "--use-database",
            servers.database_url,
            "--use-amqp",
            servers.amqp_url,
            "--json",
            str(report),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
