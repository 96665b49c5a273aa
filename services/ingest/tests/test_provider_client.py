"""The ScrapeCreators client against the fake provider running as a real process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from pulse_contracts.values import Platform
from pulse_ingest.provider import (
    CreditBalanceError,
    ProviderConfig,
    ScrapeCreatorsClient,
)
from pulse_ingest.provider_runs import PullResult
from tests.support.services import fake_provider_process, free_port

KEY = "test-key"
POSTS: dict[Platform, tuple[str, str]] = {
    "tiktok": (
        "https://www.tiktok.com/@maya.styles/video/7433917265401850001",
        "7433917265401850001",
    ),
    "instagram": ("https://www.instagram.com/reel/DCtest0001/", "DCtest0001"),
    "youtube": ("https://www.youtube.com/watch?v=Kq7vX2mL001", "Kq7vX2mL001"),
    "facebook": ("https://www.facebook.com/reel/1187654321090001", "1187654321090001"),
}


@dataclass
class Fake:
    url: str
    control: httpx.Client

    def behave(self, **body: Any) -> None:
        self.control.post("/_control/behaviour", json=body).raise_for_status()

    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self.control.get("/_control/calls").json()
        return calls

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.control.get("/_control/stats").json()
        return stats

    def credits(self) -> int:
        return int(self.stats()["credits"])


@pytest.fixture(scope="module")
def fake_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fake]:
    with fake_provider_process(tmp_path_factory.mktemp("fake-scrapecreators")) as (url, control):
        yield Fake(url=url, control=control)


@pytest.fixture
def fake(fake_process: Fake) -> Fake:
    fake_process.control.post("/_control/reset").raise_for_status()
    # "slow" answers of an earlier test may still be sleeping server-side; let them finish so
    # in-flight counts start from zero.
    deadline = time.monotonic() + 5
    while any(fake_process.stats()["in_flight"].values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    fake_process.control.post("/_control/reset").raise_for_status()
    return fake_process


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@dataclass
class ManualClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class RecordingSleep:
    """Records backoff delays and sleeps only a token amount, so tests stay fast."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def config(fake: Fake, **overrides: Any) -> ProviderConfig:
    base = ProviderConfig(
        base_url=fake.url,
        api_key=KEY,
        timeout_s=5,
        max_attempts=4,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
    )
    return replace(base, **overrides)


async def fetch(client: ScrapeCreatorsClient, platform: Platform) -> PullResult:
    return await client.fetch_post(platform, POSTS[platform][0])


# --- the happy path ---------------------------------------------------------------------------


async def test_fetches_and_normalizes_a_post_of_each_platform(
    fake: Fake, http: httpx.AsyncClient
) -> None:
    client = ScrapeCreatorsClient(config(fake), http)
    before = await client.credit_balance()
    results = await asyncio.gather(*(fetch(client, p) for p in POSTS))
    for platform, result in zip(POSTS, results, strict=True):
        run = result.run
        assert (run.status, run.http_status, run.attempts, run.credits) == ("ok", 200, 1, 1)
        assert run.error_code is None
        assert run.error is None
        assert run.platform == platform
        assert run.url == POSTS[platform][0]
        assert run.latency_ms >= 0
        assert run.started_at.tzinfo is not None
        assert result.post is not None
        assert result.raw is not None
        assert result.post.platform == platform
        assert result.post.platform_post_id == POSTS[platform][1]
        assert result.post.views is not None
        assert result.post.views > 0
    assert await client.credit_balance() == before - 4
    calls = fake.calls()
    assert {c["api_key"] for c in calls} == {KEY}
    assert {c["url"] for c in calls if c["url"]} == {url for url, _ in POSTS.values()}


# --- retries ----------------------------------------------------------------------------------


async def test_429_twice_then_ok_takes_three_attempts(fake: Fake, http: httpx.AsyncClient) -> None:
    fake.behave(platform="tiktok", mode="429", times=2)
    client = ScrapeCreatorsClient(config(fake), http)
    before = fake.credits()
    result = await fetch(client, "tiktok")
    assert result.run.status == "ok"
    assert result.post is not None
    assert result.run.attempts == 3
    assert result.run.http_status == 200
    assert [c["status"] for c in fake.calls()] == [429, 429, 200]
    # The client's credit count and the provider's charge agree.
    assert result.run.credits == before - fake.credits() == 3


async def test_retry_after_is_respected_and_capped(fake: Fake, http: httpx.AsyncClient) -> None:
    sleep = RecordingSleep()
    client = ScrapeCreatorsClient(config(fake, backoff_max_s=2), http, sleep=sleep)
    fake.behave(platform="youtube", mode="429", times=1, retry_after_s=0.7)
    assert (await fetch(client, "youtube")).run.status == "ok"
    fake.behave(platform="youtube", mode="429", times=1, retry_after_s=3600)
    assert (await fetch(client, "youtube")).run.status == "ok"
    assert sleep.delays == [0.7, 2]


async def test_500_forever_fails_after_max_attempts_with_jittered_backoff(
    fake: Fake, http: httpx.AsyncClient
) -> None:
    fake.behave(platform="instagram", mode="500")
    sleep = RecordingSleep()
    cfg = config(fake, backoff_base_s=0.1, backoff_max_s=0.3)
    client = ScrapeCreatorsClient(cfg, http, sleep=sleep)
    result = await fetch(client, "instagram")
    run = result.run
    assert (run.status, run.error_code, run.http_status) == ("failed", "server_error", 500)
    assert run.attempts == 4
    assert run.credits == 0
    assert run.error is not None
    assert "500" in run.error
    assert result.post is None
    assert len(fake.calls()) == 4
    assert len(sleep.delays) == 3
    for n, delay in enumerate(sleep.delays, start=1):
        assert 0 <= delay <= min(0.3, 0.1 * 2 ** (n - 1))


async def test_connection_errors_are_retried_then_reported(http: httpx.AsyncClient) -> None:
    cfg = ProviderConfig(
        base_url=f"http://127.0.0.1:{free_port()}", api_key=KEY, backoff_base_s=0.01
    )
    result = await ScrapeCreatorsClient(cfg, http).fetch_post("tiktok", POSTS["tiktok"][0])
    run = result.run
    assert (run.status, run.error_code, run.attempts) == ("failed", "connection_error", 4)
    assert run.http_status is None
    assert run.credits == 0


async def test_slow_beyond_timeout_fails_with_timeout(fake: Fake, http: httpx.AsyncClient) -> None:
    fake.behave(platform="facebook", mode="slow", delay_ms=1000)
    client = ScrapeCreatorsClient(config(fake, timeout_s=0.2, max_attempts=2), http)
    started = time.monotonic()
    result = await fetch(client, "facebook")
    elapsed = time.monotonic() - started
    run = result.run
    assert (run.status, run.error_code, run.attempts) == ("failed", "timeout", 2)
    assert run.http_status is None
    assert run.credits == 0
    assert 0.4 <= elapsed < 1.5  # without the timeout it would take 2 s
    assert run.latency_ms >= 400  # the whole fetch, both attempts


# --- answers that must not be retried ---------------------------------------------------------


async def test_402_is_out_of_credits_after_exactly_one_attempt(
    fake: Fake, http: httpx.AsyncClient
) -> None:
    fake.behave(platform="tiktok", mode="402")
    client = ScrapeCreatorsClient(config(fake), http)
    run = (await fetch(client, "tiktok")).run
    assert (run.status, run.error_code, run.http_status) == ("failed", "out_of_credits", 402)
    assert run.attempts == 1
    assert run.credits == 0
    assert len(fake.calls()) == 1


async def test_empty_balance_is_out_of_credits(fake: Fake, http: httpx.AsyncClient) -> None:
    fake.control.post("/_control/credits", json={"credits": 0}).raise_for_status()
    client = ScrapeCreatorsClient(config(fake), http)
    assert await client.credit_balance() == 0
    run = (await fetch(client, "youtube")).run
    assert (run.error_code, run.attempts) == ("out_of_credits", 1)


@pytest.mark.parametrize(
    ("mode", "code", "fragment"),
    [("malformed", "malformed_body", "aweme_detail"), ("success_false", "provider_error", "fetch")],
)
async def test_bad_200_bodies_become_failed_runs(
    fake: Fake, http: httpx.AsyncClient, mode: str, code: str, fragment: str
) -> None:
    fake.behave(platform="tiktok", mode=mode)
    client = ScrapeCreatorsClient(config(fake), http)
    result = await fetch(client, "tiktok")
    run = result.run
    assert (run.status, run.error_code, run.http_status, run.attempts) == ("failed", code, 200, 1)
    assert run.error is not None
    assert fragment in run.error
    assert run.credits == 1
    assert result.post is None
    assert result.raw is not None


async def test_deleted_post_is_not_found_without_retry(fake: Fake, http: httpx.AsyncClient) -> None:
    fake.control.post("/_control/deleted", json={"url": POSTS["instagram"][0]}).raise_for_status()
    client = ScrapeCreatorsClient(config(fake), http)
    run = (await fetch(client, "instagram")).run
    assert (run.status, run.error_code, run.http_status, run.attempts) == (
        "failed",
        "not_found",
        404,
        1,
    )


async def test_bad_url_and_missing_key_are_not_retried(fake: Fake, http: httpx.AsyncClient) -> None:
    client = ScrapeCreatorsClient(config(fake), http)
    run = (await client.fetch_post("tiktok", "https://example.com/nope")).run
    assert (run.error_code, run.http_status, run.attempts) == ("bad_request", 400, 1)
    keyless = ScrapeCreatorsClient(config(fake, api_key=""), http)
    run = (await fetch(keyless, "tiktok")).run
    assert (run.error_code, run.http_status, run.attempts, run.credits) == (
        "unauthorized",
        401,
        1,
        0,
    )
    with pytest.raises(CreditBalanceError) as err:
        await keyless.credit_balance()
    assert err.value.code == "unauthorized"


# --- circuit breaker ------------------------------------------------------------------------


async def test_breaker_opens_skips_without_calling_then_half_opens(
    fake: Fake, http: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    cfg = config(fake, max_attempts=1, breaker_failures=3, breaker_reset_s=60)
    client = ScrapeCreatorsClient(cfg, http, clock=clock)
    fake.behave(platform="tiktok", mode="500")
    for _ in range(3):
        assert (await fetch(client, "tiktok")).run.error_code == "server_error"
    assert client.breaker_state("tiktok") == "open"

    skipped = (await fetch(client, "tiktok")).run
    assert (skipped.status, skipped.error_code, skipped.attempts) == ("skipped", "circuit_open", 0)
    assert skipped.credits == 0
    assert skipped.http_status is None
    assert len(fake.calls()) == 3  # the skipped call never reached the provider
    # Other platforms have their own breaker.
    assert (await fetch(client, "youtube")).run.status == "ok"

    clock.now += 59
    assert (await fetch(client, "tiktok")).run.status == "skipped"
    clock.now += 1
    fake.behave(platform="tiktok", mode="slow", delay_ms=200, times=1)
    # Half-open: exactly one trial goes through; calls arriving meanwhile are still skipped.
    trial, during = await asyncio.gather(fetch(client, "tiktok"), _later(fetch(client, "tiktok")))
    assert trial.run.status == "ok"
    assert during.run.status == "skipped"
    assert client.breaker_state("tiktok") == "closed"
    assert (await fetch(client, "tiktok")).run.status == "ok"
    tiktok_calls = [c for c in fake.calls() if c["path"] == "/v2/tiktok/video"]
    assert len(tiktok_calls) == 5


async def _later(call: Any) -> PullResult:
    await asyncio.sleep(0.05)
    result: PullResult = await call
    return result


async def test_failed_trial_opens_the_breaker_again(fake: Fake, http: httpx.AsyncClient) -> None:
    clock = ManualClock()
    cfg = config(fake, max_attempts=1, breaker_failures=2, breaker_reset_s=10)
    client = ScrapeCreatorsClient(cfg, http, clock=clock)
    fake.behave(platform="facebook", mode="malformed")
    for _ in range(2):
        assert (await fetch(client, "facebook")).run.error_code == "malformed_body"
    clock.now += 10
    assert (await fetch(client, "facebook")).run.error_code == "malformed_body"  # the trial
    assert client.breaker_state("facebook") == "open"
    assert (await fetch(client, "facebook")).run.status == "skipped"
    clock.now += 10
    fake.behave(platform="facebook", mode="ok")
    assert (await fetch(client, "facebook")).run.status == "ok"
    assert client.breaker_state("facebook") == "closed"


async def test_neutral_failures_do_not_open_the_breaker(
    fake: Fake, http: httpx.AsyncClient
) -> None:
    cfg = config(fake, max_attempts=1, breaker_failures=2)
    client = ScrapeCreatorsClient(cfg, http, clock=ManualClock())
    fake.behave(platform="youtube", mode="402", times=3)
    for _ in range(3):
        assert (await fetch(client, "youtube")).run.error_code == "out_of_credits"
    for _ in range(3):
        run = (await client.fetch_post("youtube", "https://www.youtube.com/")).run
        assert run.error_code == "bad_request"
    assert client.breaker_state("youtube") == "closed"
    assert (await fetch(client, "youtube")).run.status == "ok"


async def test_a_success_resets_the_failure_count(fake: Fake, http: httpx.AsyncClient) -> None:
    cfg = config(fake, max_attempts=1, breaker_failures=2)
    client = ScrapeCreatorsClient(cfg, http, clock=ManualClock())
    for _ in range(3):
        fake.behave(platform="instagram", mode="500", times=1)
        assert (await fetch(client, "instagram")).run.status == "failed"
        assert (await fetch(client, "instagram")).run.status == "ok"
    assert client.breaker_state("instagram") == "closed"


# --- concurrency ----------------------------------------------------------------------------


async def test_per_platform_concurrency_limit(fake: Fake, http: httpx.AsyncClient) -> None:
    fake.behave(platform=None, mode="slow", delay_ms=250)
    cfg = config(fake, concurrency={"tiktok": 2, "instagram": 1, "youtube": 4, "facebook": 2})
    client = ScrapeCreatorsClient(cfg, http)
    urls = [f"https://www.tiktok.com/@x/video/74000000000000000{n:02d}" for n in range(6)]
    ig = [f"https://www.instagram.com/p/Conc{n}/" for n in range(3)]
    started = time.monotonic()
    results = await asyncio.gather(
        *(client.fetch_post("tiktok", u) for u in urls),
        *(client.fetch_post("instagram", u) for u in ig),
    )
    elapsed = time.monotonic() - started
    assert all(r.run.status == "ok" for r in results)
    stats = fake.stats()
    assert stats["max_in_flight"]["tiktok"] == 2
    assert stats["max_in_flight"]["instagram"] == 1
    # 3 waves of 250 ms per platform, run side by side: platforms do not block each other.
    assert 0.7 <= elapsed < 1.5
