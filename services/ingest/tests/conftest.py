"""Fixtures shared by ingest's pulling tests: the fake ScrapeCreators server as a real process,
and ingest started against it with pulling enabled and the test-only routes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.services import free_port

DUMMY_KEY = "test-dummy-key"


@dataclass
class FakeProvider:
    url: str
    control: httpx.Client

    def reset(self) -> None:
        self.control.post("/_control/reset").raise_for_status()

    def behave(self, **body: Any) -> None:
        self.control.post("/_control/behaviour", json=body).raise_for_status()

    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self.control.get("/_control/calls").json()
        return calls

    def post_calls(self, urls: set[str] | None = None) -> list[dict[str, Any]]:
        """Calls to post endpoints (not the credit balance), optionally only for `urls`."""
        return [
            c for c in self.calls() if c["url"] is not None and (urls is None or c["url"] in urls)
        ]

    def set_credits(self, credits: int) -> None:
        self.control.post("/_control/credits", json={"credits": credits}).raise_for_status()

    def delete(self, url: str) -> None:
        self.control.post("/_control/deleted", json={"url": url}).raise_for_status()


@pytest.fixture(scope="session")
def fake_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeProvider]:
    port = free_port()
    log_path: Path = tmp_path_factory.mktemp("fake-provider") / "server.log"
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
            yield FakeProvider(url=f"http://127.0.0.1:{port}", control=control)
        finally:
            control.close()
            process.kill()
            process.wait(10)


@pytest.fixture(scope="session")
def pulling_env(service_env: dict[str, str], fake_provider: FakeProvider) -> dict[str, str]:
    """ingest pulling from the fake: a dummy key, fast retries, the scheduler driven by the
    test (its own loop ticks hourly), the clock movable through /internal/test/clock."""
    return {
        **service_env,
        "PULSE_INGEST_SCRAPECREATORS_BASE_URL": fake_provider.url,
        "PULSE_INGEST_SCRAPECREATORS_API_KEY": DUMMY_KEY,
        "PULSE_INGEST_TEST_ROUTES": "true",
        "PULSE_INGEST_SCHEDULER_INTERVAL_S": "3600",
        "PULSE_INGEST_BATCH_SIZE_TIKTOK": "4",  # configurable: TikTok's default is 10
        "PULSE_INGEST_PROVIDER_MAX_ATTEMPTS": "3",
        "PULSE_INGEST_PROVIDER_BACKOFF_BASE_S": "0.01",
        "PULSE_INGEST_PROVIDER_BACKOFF_MAX_S": "0.05",
        "PULSE_INGEST_PROVIDER_BREAKER_FAILURES": "1000",
        "PULSE_INGEST_PROVIDER_TIMEOUT_S": "5",
    }
