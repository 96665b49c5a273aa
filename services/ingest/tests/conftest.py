"""Fixtures shared by ingest's pulling tests: the fake ScrapeCreators server as a real process,
and ingest started against it with pulling enabled and the test-only routes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.services import fake_provider_process

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
    with fake_provider_process(tmp_path_factory.mktemp("fake-scrapecreators")) as (url, control):
        yield FakeProvider(url=url, control=control)


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
